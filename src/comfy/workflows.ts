import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkBindings, type ApiGraph } from './apply-params.js';
import { checkFollowUps } from './follow-ups.js';
import { manifestSchema, type Manifest } from './manifest.js';

export interface Workflow {
  name: string;
  manifest: Manifest;
  graph: ApiGraph;
  /** Every class_type the graph uses (for capability checks and doctor). */
  classTypes: string[];
}

export type WorkflowRegistry = ReadonlyMap<string, Workflow>;

export class WorkflowLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'WorkflowLoadError';
  }
}

const graphSchema = z.record(
  z.string(),
  z.looseObject({ class_type: z.string().min(1), inputs: z.record(z.string(), z.unknown()) }),
);

/** Loads workflows/<name>.json + <name>.manifest.json; a bad pair fails start-up naming its file. */
export function loadWorkflows(dir: string): WorkflowRegistry {
  const registry = new Map<string, Workflow>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.manifest.json'))
    .sort();
  for (const file of files) {
    const name = file.slice(0, -'.manifest.json'.length);
    const manifestPath = path.join(dir, file);
    const graphPath = path.join(dir, `${name}.json`);
    const manifest = parseFile(manifestPath, manifestSchema);
    let graph: ApiGraph;
    try {
      graph = parseFile(graphPath, graphSchema) as ApiGraph;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new WorkflowLoadError(graphPath, 'missing (every manifest needs its API-format graph)');
      throw err;
    }
    if (manifest.command !== name)
      throw new WorkflowLoadError(manifestPath, `command "${manifest.command}" must equal the file name "${name}"`);
    const problems = checkBindings(graph, manifest);
    if (problems.length) throw new WorkflowLoadError(manifestPath, problems.join('; '));
    const classTypes = [...new Set(Object.values(graph).map((n) => n.class_type))].sort();
    registry.set(name, { name, manifest, graph, classTypes });
  }
  // Follow-ups name other workflows: checked once all are loaded.
  const manifests = new Map([...registry].map(([n, w]) => [n, w.manifest]));
  for (const [name, wf] of registry) {
    const problems = checkFollowUps(wf.manifest, manifests);
    if (problems.length) throw new WorkflowLoadError(path.join(dir, `${name}.manifest.json`), problems.join('; '));
  }
  return registry;
}

function parseFile<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new WorkflowLoadError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    // A UI-format export ("Save" instead of "Save (API)") has nodes/links arrays: say so plainly.
    if (raw && typeof raw === 'object' && 'nodes' in raw && 'links' in raw) {
      throw new WorkflowLoadError(file, 'this is a UI-format export; export it with "Save (API)" / "Export (API)"');
    }
    throw new WorkflowLoadError(file, z.prettifyError(parsed.error));
  }
  return parsed.data;
}
