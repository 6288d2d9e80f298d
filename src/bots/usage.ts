import type { Param } from '../comfy/manifest.js';
import { isMediaParam } from '../comfy/param-kinds.js';
import type { CommandDefinition } from './command.js';

/**
 * Example command lines for usage answers and help, built so they can be copied as they are (no trailing
 * punctuation). Manifests carry no example text yet, so the workflows we ship and the built-ins that take text have
 * one here; any other command gets its usage without an example. Prompts stay English in every language: the
 * checkpoints' text encoders read English.
 */
const EXAMPLES: Record<string, string> = {
  imagine: 'a red fox in snow',
  edit: 'make it night',
  blend: 'a cat in the style of the painting',
  sketch: 'a cottage by a lake',
  video: 'waves rolling onto a beach at sunset',
  vary: 'a red fox in snow',
  remix: '1a2b3c4d a blue fox',
  show: '1a2b3c4d',
};

type Described = Pick<CommandDefinition, 'name' | 'options'>;

/** The text to type after a command in its example, when it has one. */
export const exampleTextOf = (command: string): string | undefined => EXAMPLES[command];

/** A path to show after `--image` or `--audio` where files are typed (the terminal). */
export const samplePath = (p: Param) => (p.type === 'audio' ? './voice.ogg' : './photo.png');

/**
 * `/imagine a red fox in snow --aspect 16:9 --count 2`: the example text, then up to `flags` options with a sample
 * value (fixed choices; whole numbers too with `numbers`), then (`files`, where files are typed as options) the
 * required files. Undefined when the command needs a text we have no example for.
 */
export function exampleLine(
  c: Described,
  prefix: string,
  opts: { flags?: number; numbers?: boolean; files?: boolean } = {},
) {
  const text = EXAMPLES[c.name];
  if (!text && c.options.some((p) => p.type === 'text' && p.required)) return undefined;
  const parts = [`${prefix}${c.name}`, ...(text ? [text] : [])];
  const flags = c.options.flatMap((p) => {
    const v = sampleValue(p, opts.numbers ?? false);
    return v === undefined ? [] : [`--${p.name} ${v}`];
  });
  parts.push(...flags.slice(0, opts.flags ?? 0));
  if (opts.files)
    for (const p of c.options.filter(isMediaParam)) if (p.required) parts.push(`--${p.name} ${samplePath(p)}`);
  return parts.join(' ');
}

/** A value worth showing for a fixed choice (the second one, the first is usually the default) or a whole number. */
function sampleValue(p: Param, numbers: boolean): string | undefined {
  if (p.type === 'choice' && !p.dynamic) return (p.choices[1] ?? p.choices[0])?.value;
  if (p.type === 'int' && numbers) return String(Math.min(p.max, p.min + 1));
  return undefined;
}

/**
 * The example under the help: the first workflow that we have an example for and that needs no file, so the line
 * works when pasted on its own.
 */
export function helpExample(commands: readonly CommandDefinition[], prefix: string): string | undefined {
  for (const c of commands)
    if (c.workflow && !c.options.some((p) => isMediaParam(p) && p.required) && EXAMPLES[c.name])
      return exampleLine(c, prefix, { flags: 2, numbers: true });
  return undefined;
}
