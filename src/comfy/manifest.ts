import { z } from 'zod';

/**
 * A workflow manifest: `workflows/<name>.manifest.json` beside the untouched API-format export
 * `workflows/<name>.json`. It names the command, its localized description, its typed parameters and
 * the node inputs each fills, and which nodes' outputs are the results. Adding a workflow = two files.
 */
export const localizedSchema = z.object({
  en: z.string().min(1).max(100),
  'zh-TW': z.string().min(1).max(100),
});
export type Localized = z.infer<typeof localizedSchema>;

/** A node input in the graph, e.g. { node: "sampler", input: "seed" }. */
export const targetSchema = z.object({ node: z.string().min(1), input: z.string().min(1) });
export type Target = z.infer<typeof targetSchema>;

const common = {
  /** Option name on every platform: ^[a-z][a-z0-9_]{0,31}$ is valid for Discord and Telegram alike. */
  name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  description: localizedSchema,
  required: z.boolean().default(false),
  /** Short flags for text frontends (`--ar` for `--aspect`). */
  aliases: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,15}$/)).default([]),
  targets: z.array(targetSchema).default([]),
};

const choiceSchema = z.object({
  value: z.string().min(1).max(100),
  /** Extra inputs this choice sets (e.g. aspect 16:9 → width and height). */
  /** A value may also be a link `[node id, output index]`, to rewire the graph (e.g. skip an ImageInvert). */
  set: z
    .array(
      targetSchema.extend({
        value: z.union([z.string(), z.number(), z.boolean(), z.tuple([z.string(), z.number().int().min(0)])]),
      }),
    )
    .default([]),
});

export const paramSchema = z.discriminatedUnion('type', [
  z.object({
    ...common,
    type: z.literal('text'),
    maxLength: z.number().int().positive().max(10_000).default(1000),
    default: z.string().optional(),
  }),
  z.object({
    ...common,
    type: z.literal('int'),
    min: z.number().int(),
    max: z.number().int(),
    default: z.number().int().optional(),
  }),
  z.object({ ...common, type: z.literal('float'), min: z.number(), max: z.number(), default: z.number().optional() }),
  z.object({
    ...common,
    type: z.literal('choice'),
    choices: z.array(choiceSchema).max(25).default([]),
    /** Options come from /object_info for the first target's input (model lists). */
    dynamic: z.boolean().default(false),
    default: z.string().optional(),
  }),
  /** Random when not given; the chosen seed is recorded so a result can be reproduced. */
  z.object({ ...common, type: z.literal('seed') }),
  /** An optional media param left out removes its loader node (and the links to it, which must go to optional inputs). */
  z.object({ ...common, type: z.literal('image'), maxSide: z.number().int().positive().default(2048) }),
  z.object({ ...common, type: z.literal('audio'), maxSeconds: z.number().positive().default(60) }),
]);
export type Param = z.infer<typeof paramSchema>;

export const manifestSchema = z
  .object({
    command: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    description: localizedSchema,
    params: z.array(paramSchema).max(25),
    /** Node ids whose saved files are the results, in delivery order. */
    outputs: z.array(z.string().min(1)).min(1),
    /** A node whose first saved image is the job's thumbnail (e.g. a video's first frame), not a result. */
    poster: z.string().min(1).optional(),
    requires: z
      .object({
        /** Model inputs whose value in the graph must exist on the server (checked by doctor). */
        models: z.array(targetSchema).default([]),
        /** Custom node packs the graph needs, with where to get them. */
        customNodes: z.array(z.object({ name: z.string(), url: z.url().optional() })).default([]),
      })
      .default({ models: [], customNodes: [] }),
  })
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    for (const p of m.params) {
      for (const n of [p.name, ...p.aliases]) {
        if (names.has(n)) ctx.addIssue({ code: 'custom', message: `duplicate option name or alias "${n}"` });
        names.add(n);
      }
      if ((p.type === 'int' || p.type === 'float') && p.min > p.max)
        ctx.addIssue({ code: 'custom', message: `${p.name}: min > max` });
      if (p.type === 'choice' && !p.dynamic && p.choices.length === 0)
        ctx.addIssue({ code: 'custom', message: `${p.name}: no choices` });
      if (p.type === 'choice' && p.dynamic && p.targets.length === 0)
        ctx.addIssue({ code: 'custom', message: `${p.name}: dynamic choice needs a target` });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;
