// `npm run catalogue`: prints the extracted catalogue (name, kind, first source) for inspection.
import { buildCatalogue, loadPending } from './catalogue.ts';

const c = buildCatalogue();
for (const name of [...c.entries.keys()].sort()) {
  const e = c.entries.get(name)![0];
  console.log(`${name}\t${e.kind}\t${e.source}`);
}
for (const p of loadPending()) console.log(`${p.name}\tpending\t${p.source}`);
for (const u of c.unresolved) console.error(`unresolved: ${u}`);
