// The page header's Share, Export and Import: a link that reproduces this setup (copied to
// the clipboard and shown), the setup with its trained state as a JSON file (the format of
// NNVisu.save / NNVisu.load), and reading such a file back.
import type { Banner } from "./banner";
import type { Message } from "./connection";
import type { HostModel } from "./model";
import { checkSetup, linkOf, SetupError, setupOf, traitsOf } from "./setup";

interface Deps {
  model: HostModel;
  request: (m: Message) => Promise<Message>;
  banner: Banner;
  /** Replace everything stored with these traits (null: start over) and reload. */
  replaceAll: (traits: Record<string, unknown> | null) => void;
}

interface PointLike {
  x: number;
  y: number;
  label: number;
  test?: boolean;
}

/** Are the points exactly what the generator's settings give? Then a link carries only those. */
async function isGenerated(state: Record<string, unknown>, request: Deps["request"]): Promise<boolean> {
  const { name, ...settings } = (state.dataset ?? {}) as Record<string, unknown>;
  const data = (state.data ?? []) as PointLike[];
  const reply = await request({ type: "generate_data", dataset: name, ...settings });
  if (reply.type !== "data") return false;
  const made = reply.data as PointLike[];
  return (
    made.length === data.length &&
    made.every((p, i) => p.x === data[i].x && p.y === data[i].y && p.label === data[i].label && Boolean(p.test) === Boolean(data[i].test))
  );
}

export function mountSetupButtons(doc: Document, deps: Deps): void {
  const { model, request, banner, replaceAll } = deps;
  const box = doc.getElementById("nnvisu-share-box") as HTMLElement | null;
  const field = doc.getElementById("nnvisu-share-link") as HTMLInputElement | null;

  doc.getElementById("nnvisu-share")?.addEventListener("click", async () => {
    const state = model.snapshot();
    const link = await linkOf(setupOf(state, false, await isGenerated(state, request)), location.href);
    if (field && box) {
      field.value = link;
      box.hidden = false;
      field.select();
    }
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch {
      // no clipboard permission (e.g. plain http on another host): the link is shown to copy
    }
    banner.show(
      copied
        ? "Link copied: whoever opens it gets these points, this network's starting weights and these settings."
        : "Copy the link below: whoever opens it gets these points, this network's starting weights and these settings.",
      "ok",
    );
  });

  doc.getElementById("nnvisu-export")?.addEventListener("click", async () => {
    const state = model.snapshot();
    const text = JSON.stringify(setupOf(state, true, await isGenerated(state, request)));
    const a = doc.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = "nnvisu-setup.json";
    doc.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });

  const input = doc.getElementById("nnvisu-import-file") as HTMLInputElement | null;
  doc.getElementById("nnvisu-import")?.addEventListener("click", () => input?.click());
  input?.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await file.text());
      } catch {
        throw new SetupError(`${file.name} is not an nnvisu setup (not JSON).`);
      }
      const setup = checkSetup(parsed, file.name);
      if (confirm(`Open ${file.name}? It replaces the points, network and settings in this browser.`)) replaceAll(traitsOf(setup));
    } catch (err) {
      banner.show(err instanceof SetupError ? err.message : `Could not read ${file.name}: ${String(err)}`, "error");
    }
  });
}
