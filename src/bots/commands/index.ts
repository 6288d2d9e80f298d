import type { WorkflowRegistry } from '../../comfy/workflows.js';
import type { CommandDefinition } from '../command.js';
import type { ActionHandler } from '../dispatch.js';
import { cancelAction, cancelCommand } from './cancel.js';
import type { CommandDeps } from './deps.js';
import { followUpAction } from './follow-up.js';
import { galleryCommand, openAction, pageAction } from './gallery.js';
import { helpCommand } from './help.js';
import { meAction, meCommand, withdrawAction } from './me.js';
import { modelsCommand } from './models.js';
import { originalAction } from './original.js';
import { remixAction, remixCommand } from './remix.js';
import { rerollAction } from './reroll.js';
import { settingAction, settingsCommand, settingsViewAction } from './settings.js';
import { showCommand } from './show.js';
import { starAction } from './star.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { upscaleAction } from './upscale.js';
import { workflowCommand } from './workflow.js';

/**
 * Every command, in menu order: one per workflow manifest, then the built-ins. Discord's slash commands, Telegram's
 * menu, /help and the terminal's usage are all generated from this one list.
 */
export function createCommands(deps: CommandDeps): CommandDefinition[] {
  const commands: CommandDefinition[] = [
    ...[...deps.workflows.values()].map((wf) => workflowCommand(wf, deps)),
    galleryCommand(deps),
    showCommand(deps),
    remixCommand(deps),
    cancelCommand(deps),
    meCommand(deps),
    settingsCommand(deps),
    modelsCommand(deps),
    helpCommand(() => commands),
    statusCommand(deps),
    startCommand(),
  ];
  return commands;
}

/** Every button, menu pick, form and answer, each written once. */
export function createActions(deps: CommandDeps): ActionHandler[] {
  return [
    cancelAction(deps),
    rerollAction(deps),
    remixAction(deps),
    upscaleAction(deps),
    followUpAction(deps),
    originalAction(deps),
    pageAction(deps),
    openAction(deps),
    starAction(deps),
    meAction(deps),
    withdrawAction(deps),
    settingAction(deps),
    settingsViewAction(deps),
  ];
}

/**
 * The command list without a running bot (the terminal's usage): making a command reads only the workflows and the
 * prompt limit; anything else a command would use is there only when it runs, which a listing never does.
 */
export function listCommands(workflows: WorkflowRegistry, maxPromptChars: number): CommandDefinition[] {
  const listing = { workflows, maxPromptChars } as Partial<CommandDeps>;
  return createCommands(
    new Proxy(listing as CommandDeps, {
      get: (target, key) => {
        if (key in target) return target[key as keyof CommandDeps];
        throw new Error(`a listed command used deps.${String(key)}`);
      },
    }),
  );
}
