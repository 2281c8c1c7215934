// `npm run generate`: writes dashboards/*.json (provisioned by provisioning/dashboards) and
// removes JSON files that no longer correspond to a dashboard.
import fs from 'node:fs';
import path from 'node:path';
import { renderDashboards } from './dashboards/index.ts';
import { kDashboardsDir } from './paths.ts';

const rendered = renderDashboards();
fs.mkdirSync(kDashboardsDir, { recursive: true });
for (const f of fs.readdirSync(kDashboardsDir)) {
  if (f.endsWith('.json') && !rendered.has(f)) fs.unlinkSync(path.join(kDashboardsDir, f));
}
for (const [file, text] of rendered) fs.writeFileSync(path.join(kDashboardsDir, file), text);
console.log(`wrote ${rendered.size} dashboards to ${path.relative(process.cwd(), kDashboardsDir) || '.'}`);
