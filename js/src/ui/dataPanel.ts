// Dataset generator controls: problem, dataset, classes, noise, point count, test split, and
// Regenerate. Every change asks the kernel for new points (generate_data); the dataset decides
// the problem type and class count, and the reshaper follows with a matching network.
import type { DataGenerator } from "../datasets";
import { DATASETS, GENERATE_RANGES } from "../generated/catalog";
import { readConfig, readDataset, type Problem, type WidgetModel } from "../state";
import { button, control, field, h, hint, ICONS, onModel, select, setOptions, showValue, slider, type Cleanup, type Option } from "./dom";


const datasetLabel = (name: string): string => DATASETS[name]?.label ?? name.replace(/_/g, " ");

export function mountDataPanel(model: WidgetModel, el: HTMLElement, generator: DataGenerator): Cleanup {
  const problem = select(
    [
      ["classification", "Classification"],
      ["regression", "Regression"],
    ],
    (value) => {
      // A problem type is a family of datasets: switch to the first one of that family.
      const first = Object.entries(generator.catalogue).find(([, info]) => info.problem === value);
      if (first) void generator.generate({ name: first[0] });
    },
  );
  const dataset = select([], (name) => void generator.generate({ name }));
  const classes = select([], (k) => void generator.generate({ num_classes: Number(k) }));
  const noise = slider("Noise", { min: GENERATE_RANGES.noise.ge ?? 0, max: GENERATE_RANGES.noise.le ?? 1, step: 0.05 }, (v) => v.toFixed(2), (v) => void generator.generate({ noise: v }));
  const points = slider("Points", { min: 20, max: 2000, step: 10 }, (v) => v.toLocaleString("en-US"), (v) => void generator.generate({ n: v }));
  const split = slider("Test split", { min: GENERATE_RANGES.test_ratio.ge ?? 0, max: GENERATE_RANGES.test_ratio.le ?? 0.9, step: 0.05 }, (v) => `${Math.round(v * 100)}%`, (v) => void generator.resplit(v));
  const regenerate = button("Regenerate", { class: "nnv-button nnv-button--wide", title: "New random points with these settings" }, () => void generator.regenerate(), ICONS.reset);

  el.append(
    control("problem", hint(field("Problem", problem), "Classification predicts a class (colour); regression predicts a value")),
    control("dataset", hint(field("Dataset", dataset), "The pattern the points are drawn from")),
    control("classes", hint(field("Classes", classes), "Number of classes (colours) in the dataset")),
    control("noise", hint(noise.root, "How far the points scatter from the pattern")),
    control("points", hint(points.root, "Number of points generated, train and test together")),
    control("test_ratio", hint(split.root, "Share of points held out as test data (ringed): never trained on")),
    control("dataset", h("div", {}, regenerate)),
  );

  const fillDatasets = () => {
    const groups: [Problem, string][] = [
      ["classification", "Classification"],
      ["regression", "Regression"],
    ];
    dataset.replaceChildren(
      ...groups.map(([kind, label]) => {
        const group = h("optgroup", { label });
        const names = Object.entries(generator.catalogue).filter(([, info]) => info.problem === kind);
        setOptions(group, names.map(([name]): Option => [name, datasetLabel(name)]));
        return group;
      }),
    );
  };

  const sync = () => {
    const s = readDataset(model);
    const cfg = readConfig(model);
    const info = generator.catalogue[s.name];
    // The chosen dataset's problem shows at once; the config follows when its points arrive.
    problem.value = info?.problem ?? cfg.problem;
    dataset.value = s.name;
    if (cfg.problem === "regression") {
      setOptions(classes, [["", "—"]]);
      classes.disabled = true;
    } else {
      const lo = info?.min_classes ?? 2;
      const hi = info?.max_classes ?? lo;
      const counts: Option[] = [];
      for (let k = lo; k <= hi; k++) counts.push([String(k), String(k)]);
      setOptions(classes, counts);
      showValue(classes, String(cfg.num_classes));
      classes.disabled = lo === hi;
    }
    noise.show(s.noise);
    points.show(s.n);
    split.show(s.test_ratio);
  };

  fillDatasets();
  sync();
  const offCatalogue = generator.onCatalogue(() => {
    fillDatasets();
    sync();
  });
  const offModel = onModel(model, ["change:dataset", "change:config"], sync);
  return () => {
    offCatalogue();
    offModel();
  };
}
