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
  /** On or off: typed as on/off, yes/no or true/false, a checkbox-like boolean option on Discord. */
  z.object({ ...common, type: z.literal('bool'), default: z.boolean().optional() }),
  /** An optional media param left out removes its loader node (and the links to it, which must go to optional inputs). */
  z.object({ ...common, type: z.literal('image'), maxSide: z.number().int().positive().default(2048) }),
  z.object({ ...common, type: z.literal('audio'), maxSeconds: z.number().positive().default(60) }),
]);
export type Param = z.infer<typeof paramSchema>;

/**
 * A button under each result image that runs another workflow on that image, with no code: "Vary (subtle)" is the
 * `vary` workflow with the chosen image in its `image` parameter, this job's prompt carried over, a new seed and
 * `denoise` preset to 0.35. Checked at load against the target manifest (workflows.ts). Button payloads carry only
 * the job id, the image number and this follow-up's place in the list, never these values.
 */
export const followUpSchema = z.strictObject({
  /** An i18n key (`bot.button_vary_subtle`) or the texts themselves; `{n}` in them becomes the image number. */
  label: z.union([
    z.string().regex(/^[a-z]+\.[a-z0-9_]+$/),
    z.object({ en: z.string().min(1).max(60), 'zh-TW': z.string().min(1).max(60) }),
  ]),
  /** The workflow to run (its command name). */
  workflow: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  /** The target's image parameter that receives the chosen result image. */
  input: z.string().min(1),
  /** Target parameters filled from this job's: { "<target param>": "<this job's param>" }, when this job has it. */
  carry: z.record(z.string(), z.string()).default({}),
  /** Target parameters set to fixed values: { "denoise": 0.35 }. Anything else takes its default; seeds are new. */
  preset: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export type FollowUp = z.infer<typeof followUpSchema>;

/**
 * At most four follow-ups: one row per image holds them plus the ⬇️ Original button within Discord's five buttons a
 * row; four image rows under the Reroll row fill Discord's five rows.
 */
export const MAX_FOLLOW_UPS = 4;

export const manifestSchema = z
  .object({
    command: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    description: localizedSchema,
    params: z.array(paramSchema).max(25),
    /** Node ids whose saved files are the results, in delivery order. */
    outputs: z.array(z.string().min(1)).min(1),
    /** A node whose first saved image is the job's thumbnail (e.g. a video's first frame), not a result. */
    poster: z.string().min(1).optional(),
    /** Buttons under each result image that run another workflow on it (Upscale, Vary, Animate). */
    followUps: z.array(followUpSchema).max(MAX_FOLLOW_UPS).default([]),
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
