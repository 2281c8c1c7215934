// The rich-text editor of an open KB page, a lazy chunk of the kb bundle: TipTap (ProseMirror)
// with StarterKit (paragraphs, headings, lists, bold, italic, links, …) and a toolbar for
// bold, italic, H1, H2, bullet list, numbered list and link. Stored HTML is sanitised here
// before the editor parses it (sanitize.ts); ProseMirror's schema then drops anything else.
import { Editor } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import { sanitizeHtml } from "./sanitize";

export interface KbEditorHandle {
  html(): string;
  /** Replaces the content (sanitised) without reporting it as a local change. */
  setContent(html: string): void;
  destroy(): void;
}

interface ToolbarButton {
  label: string;
  title: string;
  testid: string;
  run(e: Editor): void;
  active(e: Editor): boolean;
}

const kButtons: ToolbarButton[] = [
  {
    label: "B",
    title: "Bold",
    testid: "kb-bold",
    run: (e) => e.chain().focus().toggleBold().run(),
    active: (e) => e.isActive("bold"),
  },
  {
    label: "I",
    title: "Italic",
    testid: "kb-italic",
    run: (e) => e.chain().focus().toggleItalic().run(),
    active: (e) => e.isActive("italic"),
  },
  {
    label: "H1",
    title: "Heading 1",
    testid: "kb-h1",
    run: (e) => e.chain().focus().toggleHeading({ level: 1 }).run(),
    active: (e) => e.isActive("heading", { level: 1 }),
  },
  {
    label: "H2",
    title: "Heading 2",
    testid: "kb-h2",
    run: (e) => e.chain().focus().toggleHeading({ level: 2 }).run(),
    active: (e) => e.isActive("heading", { level: 2 }),
  },
  {
    label: "• List",
    title: "Bullet list",
    testid: "kb-bullets",
    run: (e) => e.chain().focus().toggleBulletList().run(),
    active: (e) => e.isActive("bulletList"),
  },
  {
    label: "1. List",
    title: "Numbered list",
    testid: "kb-numbers",
    run: (e) => e.chain().focus().toggleOrderedList().run(),
    active: (e) => e.isActive("orderedList"),
  },
  {
    label: "Link",
    title: "Link",
    testid: "kb-link",
    run: (e) => {
      if (e.isActive("link")) {
        e.chain().focus().unsetLink().run();
        return;
      }
      const href = window.prompt("Link address (https://…)")?.trim() ?? "";
      if (/^(https?:\/\/|mailto:)/i.test(href)) e.chain().focus().setLink({ href }).run();
    },
    active: (e) => e.isActive("link"),
  },
];

export function mountKbEditor(
  container: HTMLElement,
  initialHtml: string,
  onChange: (html: string) => void,
): KbEditorHandle {
  const toolbar = document.createElement("div");
  toolbar.className = "kb-toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", "Formatting");
  const area = document.createElement("div");
  area.className = "kb-area";
  area.dataset.testid = "kb-editor";
  container.replaceChildren(toolbar, area);

  let applying = false;
  const editor = new Editor({
    element: area,
    extensions: [
      StarterKit.configure({
        link: {
          openOnClick: false,
          autolink: true,
          protocols: ["http", "https", "mailto"],
          HTMLAttributes: { rel: "noopener noreferrer nofollow", target: null },
        },
      }),
    ],
    content: sanitizeHtml(initialHtml),
    editorProps: { attributes: { "aria-label": "Page content", class: "kb-content" } },
    onUpdate: ({ editor: e }) => {
      if (!applying) onChange(e.getHTML());
    },
  });

  const buttons = kButtons.map((b) => {
    const el = document.createElement("button");
    el.type = "button";
    el.textContent = b.label;
    el.title = b.title;
    el.dataset.testid = b.testid;
    el.addEventListener("mousedown", (ev) => ev.preventDefault());
    el.addEventListener("click", () => b.run(editor));
    toolbar.append(el);
    return { b, el };
  });
  const refresh = () => {
    for (const { b, el } of buttons) el.setAttribute("aria-pressed", String(b.active(editor)));
  };
  editor.on("transaction", refresh);
  refresh();

  return {
    html: () => editor.getHTML(),
    setContent(html) {
      applying = true;
      try {
        editor.commands.setContent(sanitizeHtml(html), { emitUpdate: false });
      } finally {
        applying = false;
      }
    },
    destroy() {
      editor.destroy();
      container.replaceChildren();
    },
  };
}
