/** English catalog: the keys every other catalog must have (zh-TW.ts `satisfies Catalog`). */
type P = Record<string, string | number>;
const s = (p: P, k: string) => String(p[k] ?? '');
/** Seconds as "2 h 5 min", "3 min 20 s", "45 s". */
const span = (p: P, k: string) => {
  const t = Math.max(0, Math.round(Number(p[k] ?? 0)));
  const [h, m, sec] = [Math.floor(t / 3600), Math.floor((t % 3600) / 60), t % 60];
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  return m ? (sec ? `${m} min ${sec} s` : `${m} min`) : `${sec} s`;
};
/** "What to draw" → "what to draw", inside a sentence (an acronym like "CFG" stays). */
const lower = (text: string) => (/^[A-Z][a-z]/.test(text) ? text[0]?.toLowerCase() + text.slice(1) : text);
const STATUS: Record<string, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

export const en = {
  'progress.queued': (p: P) =>
    Number(p.position) > 0 ? `Queued — ${s(p, 'position')} ahead of you` : 'Queued — next up',
  'progress.waiting_gpu': (p: P) => `Waiting for the GPU — ${s(p, 'position')} ahead in ComfyUI`,
  'progress.starting': 'Starting…',
  'progress.waiting_comfy': 'Waiting for the GPU server…',
  'progress.restarting': (p: P) =>
    `The bot is restarting · job ${s(p, 'id')}\nYour job is safe: this message continues after the restart.`,
  'progress.running': 'Generating',
  'progress.step': (p: P) => `step ${s(p, 'value')}/${s(p, 'max')}`,
  'progress.node': (p: P) => `node: ${s(p, 'node')}`,
  'progress.elapsed': (p: P) => `elapsed ${s(p, 'time')}`,
  'progress.eta': (p: P) => `about ${s(p, 'time')} left`,
  'progress.still_working': (p: P) => `still working · ${s(p, 'time')}`,
  'progress.done': (p: P) => `Done in ${s(p, 'time')} — ${s(p, 'count')} file(s)`,
  'progress.job': (p: P) => `job ${s(p, 'id')}`,
  'notify.done': (p: P) => `✅ Your job ${s(p, 'id')} is done (${s(p, 'time')}).`,
  'notify.failed': (p: P) => `⚠️ Your job ${s(p, 'id')} ended without a result.`,
  'failure.cancelled': 'Cancelled.',
  'failure.rejected': (p: P) =>
    `ComfyUI refused the workflow${p.node ? ` at node ${s(p, 'node')}` : ''}: ${s(p, 'message')}`,
  'failure.execution': (p: P) => `Generation failed${p.node ? ` at node ${s(p, 'node')}` : ''}: ${s(p, 'message')}`,
  'failure.timeout': (p: P) => `Timed out: ${s(p, 'message')}`,
  'failure.invalid': (p: P) => `The job was invalid: ${s(p, 'message')}`,
  'failure.unavailable': (p: P) => `ComfyUI could not be reached, even after retries: ${s(p, 'message')}`,
  'failure.lost': (p: P) => `ComfyUI lost the job (it restarted), even after retries: ${s(p, 'message')}`,
  'failure.too_large': (p: P) => `The result is too large to fetch from ComfyUI: ${s(p, 'message')}`,
  'failure.internal': (p: P) => `Something went wrong (ref ${s(p, 'ref')}).`,
  'error.invalid_options': (p: P) => `Some options are not valid:\n${s(p, 'issues')}`,
  'issue.needs_value': (p: P) => `--${s(p, 'name')} needs a value after it`,
  'issue.unexpected_text': (p: P) => `this command takes no text: “${s(p, 'text')}”`,
  'issue.missing': (p: P) => `${s(p, 'name')} is missing`,
  'issue.range': (p: P) => `${s(p, 'name')} must be ${s(p, 'min')}–${s(p, 'max')}`,
  'issue.whole_number': (p: P) =>
    `${s(p, 'name')} must be a whole number${p.min !== undefined ? `, ${s(p, 'min')}–${s(p, 'max')}` : ''}`,
  'issue.number': (p: P) => `${s(p, 'name')} must be a number, ${s(p, 'min')}–${s(p, 'max')}`,
  'issue.one_of': (p: P) => `${s(p, 'name')} must be one of ${s(p, 'choices').split('\n').join(', ')}`,
  'issue.model': (p: P) => `${s(p, 'name')} must be the name of a model (see /models)`,
  'issue.too_long': (p: P) => `${s(p, 'name')} is too long: at most ${s(p, 'max')} characters`,
  'issue.not_text': (p: P) => `${s(p, 'name')} must be text`,
  'issue.file': (p: P) => `${s(p, 'name')} must be a file sent with the command`,
  'issue.unknown_option': (p: P) => `--${s(p, 'name')} is not an option of this command`,
  'input.missing_text': (p: P) =>
    `Please add ${lower(s(p, 'label'))} after ${s(p, 'command')}${p.example ? `, for example:\n${s(p, 'example')}` : '.'}`,
  'error.unknown_option': (p: P) =>
    `Unknown option --${s(p, 'name')}${p.suggestion ? ` — did you mean --${s(p, 'suggestion')}?` : '.'}`,
  'error.prompt_too_long': (p: P) => `The prompt is too long: ${s(p, 'length')} characters, at most ${s(p, 'max')}.`,
  'error.unknown_workflow': (p: P) => `There is no workflow called "${s(p, 'name')}".`,
  'error.queue_unavailable': 'The job queue is not reachable right now. Please try again in a minute.',
  'error.job_not_found': (p: P) => `No job ${s(p, 'id')} of yours was found.`,
  'error.not_allowed': 'Sorry, this bot is not open to you here.',
  'error.shared_identity': 'Please send this command as yourself: anonymous admins and channels cannot own jobs here.',
  'error.admin_only': 'Only admins can use this command.',
  'error.queue_cap': (p: P) =>
    `You already have ${s(p, 'max')} jobs waiting or running. Wait for one to finish, or /cancel one.`,
  'error.rate_limited': (p: P) => `Slow down: at most ${s(p, 'max')} jobs a minute. Try again in ${s(p, 'seconds')} s.`,
  'error.gpu_quota': (p: P) =>
    `You have used today's GPU time: ${span(p, 'used')} of ${span(p, 'limit')}, ${span(p, 'left')} left. It resets in ${span(p, 'resets')} (at 00:00 UTC).`,
  'error.internal': (p: P) => `Something went wrong (ref ${s(p, 'ref')}).`,
  'error.unknown_button': 'This button is from an older message and no longer works.',
  'input.missing_image': (p: P) =>
    `This command needs a picture${p.label ? `: “${s(p, 'label')}”` : ''}.${p.how ? ` ${s(p, 'how')}` : ''}`,
  'media.how_telegram_image':
    'Send the picture with the command as its caption, or reply to a picture with the command.',
  'media.how_telegram_audio':
    'Send a voice message or an audio file with the command as its caption, or reply to one with the command.',
  'media.how_discord': 'Add the file in the command’s attachment option.',
  'media.how_terminal': (p: P) =>
    `Add --${s(p, 'name')} followed by the file’s path, e.g. --${s(p, 'name')} ${s(p, 'file')}`,
  'input.not_image': 'That file is not an image I can read (PNG, JPEG, WebP or GIF).',
  'input.corrupt_image': 'That image is damaged and cannot be decoded.',
  'input.too_many_pixels': (p: P) =>
    `That image is too large: ${s(p, 'width')}×${s(p, 'height')} pixels, at most ${s(p, 'max')} megapixels.`,
  'input.file_too_big': (p: P) => `That file is too big to download: ${s(p, 'size')} MB, at most ${s(p, 'max')} MB.`,
  'bot.start': 'Hi! I turn text and pictures into images with ComfyUI. Try /imagine a red fox in snow — or /help.',
  'bot.help_header': 'Commands:',
  'bot.help_options': (p: P) => `Options go after the text, as --name value.\nExample:\n${s(p, 'example')}`,
  'bot.help_media_image': (p: P) => `📎 Pictures: ${s(p, 'how')}`,
  'bot.help_media_audio': (p: P) => `📎 Recordings: ${s(p, 'how')}`,
  'bot.help_example': 'Example:',
  'bot.help_required': ' (required)',
  'bot.help_builtin':
    '/gallery — your past work · /remix <job> <new prompt> — run again with changes · /cancel [job] · /models',
  'bot.gallery_empty': 'Nothing here yet. Try /imagine first.',
  'bot.gallery_caption': (p: P) => `Your work — page ${s(p, 'page')} of ${s(p, 'pages')}. Tap a number to open it.`,
  'bot.remix_ask': (p: P) =>
    `✏️ Remix ${s(p, 'id')}: reply to this message with the new prompt (options like --steps 30 work too).`,
  'bot.button_cancel': '✖ Cancel',
  'bot.button_reroll': '🎲 Reroll',
  'bot.button_remix': '✏️ Remix',
  'bot.button_upscale': (p: P) => `⬆️ Upscale ${s(p, 'n')}`,
  'bot.button_vary_subtle': (p: P) => `🔅 Vary (subtle) ${s(p, 'n')}`,
  'bot.button_vary_strong': (p: P) => `🔆 Vary (strong) ${s(p, 'n')}`,
  'bot.button_animate': (p: P) => `🎬 Animate ${s(p, 'n')}`,
  'bot.button_original': (p: P) => `⬇️ Original ${s(p, 'n')}`,
  'bot.original_caption': (p: P) => `Original file of image ${s(p, 'n')} · job ${s(p, 'id')}`,
  'error.result_gone': (p: P) => `Image ${s(p, 'n')} of job ${s(p, 'id')} is no longer kept.`,
  'bot.result_caption': (p: P) => `${s(p, 'prompt')}\nseed ${s(p, 'seed')} · ${s(p, 'time')} · job ${s(p, 'id')}`,
  'bot.models_header': 'Models you can pick:',
  'bot.models_none': 'ComfyUI reports no selectable models right now.',
  'bot.cancel_requested': (p: P) => `Cancelling job ${s(p, 'id')}…`,
  'bot.nothing_to_cancel': 'You have no job waiting or running.',
  'bot.status': (p: P) =>
    `Queue: ${s(p, 'waiting')} waiting, ${s(p, 'active')} running, ${s(p, 'failed')} failed\nWorkers online: ${s(p, 'workers')}\nHistory: ${s(p, 'succeeded')} done, ${s(p, 'failed_hist')} failed, ${s(p, 'cancelled')} cancelled`,
  'bot.status_worker': (p: P) =>
    `• ${s(p, 'url')} — ${p.job ? `busy (job ${s(p, 'job')})` : 'idle'}${p.gpu ? ` · ${s(p, 'gpu')} · VRAM ${s(p, 'free')} of ${s(p, 'total')} GB free` : ''}${p.model ? ` · model ${s(p, 'model')}` : ''}`,
  'bot.status_stuck': (p: P) => `Stuck (unfinished after ${s(p, 'time')}): ${s(p, 'jobs')}`,
  'bot.job_details': (p: P) =>
    `${s(p, 'workflow')} · job ${s(p, 'id')} · ${STATUS[s(p, 'status')] ?? s(p, 'status')}\n${s(p, 'params')}`,
  'menu.gallery': 'Your past work',
  'menu.remix': 'Run a job again with changes',
  'menu.cancel': 'Cancel a job',
  'menu.models': 'Models you can pick',
  'menu.help': 'How to use this bot',
  'menu.settings': 'Your defaults: language, aspect, model, privacy…',
  'menu.me': 'Your jobs in progress and the limits left',
  'menu.show': 'Post one of your past jobs again, with its buttons',
  'settings.title': '⚙️ Your settings',
  'settings.line': (p: P) => `${s(p, 'label')}: ${s(p, 'value')}`,
  'settings.key_language': 'Language',
  'settings.key_aspect': 'Aspect ratio',
  'settings.key_model': 'Model',
  'settings.key_count': 'Images per job',
  'settings.key_steps': 'Steps',
  'settings.key_visibility': 'Results',
  'settings.key_pings': 'Ping when done',
  'settings.key_spoilers': 'Spoilers',
  'settings.key_chat_spoilers': 'Spoilers in this chat',
  'settings.default': 'default',
  'settings.auto': (p: P) => `auto (${s(p, 'language')})`,
  'settings.lang_en': 'English',
  'settings.lang_zh': '繁體中文',
  'settings.public': 'public',
  'settings.private': 'only me',
  'settings.on': 'on',
  'settings.off': 'off',
  'settings.chat_auto': 'each user decides',
  'settings.hint': (p: P) => `Type a change: ${s(p, 'prefix')}settings aspect 16:9 · ${s(p, 'prefix')}settings reset`,
  'settings.choose': (p: P) => `${s(p, 'label')} — pick one:`,
  'settings.button_back': '« Back',
  'settings.button_reset': '↺ Reset all',
  'settings.saved': '✅ Saved.',
  'settings.reset_done': '↺ Your settings are back to the defaults.',
  'settings.needs_value': (p: P) => `Which value? For example: ${s(p, 'usage')}`,
  'settings.unknown_model': (p: P) => `ComfyUI has no model called "${s(p, 'name')}". See /models.`,
  'settings.chat_admin_only': 'Only the admins of this chat can set its spoiler policy.',
  'settings.stale_menu': 'This menu is out of date. Open /settings again.',
  'settings.option_setting': 'The setting to change (typed: /settings aspect 16:9), or reset',
  'settings.option_value': 'Its new value ("default" clears it)',
  'settings.option_language': 'Reply language (auto: your app’s language)',
  'settings.option_aspect': 'Default aspect ratio',
  'settings.option_model': 'Default model',
  'settings.option_count': 'Default number of images',
  'settings.option_steps': 'Default sampling steps',
  'settings.option_visibility': 'Results for everyone, or only for you',
  'settings.option_pings': 'A ping when a job is done',
  'settings.option_spoilers': 'Results behind a spoiler',
  'settings.option_chat_spoilers': 'Spoilers for everyone in this chat (chat admins)',
  'bot.private_here': '🔒 Your job from the group: its progress and result come here.',
  'bot.private_sent': '🔒 I’ll send the result to you privately.',
  'bot.private_blocked':
    '🔒 I can’t message you privately until you open a chat with me and press Start, so this result comes here.',
  'me.title': (p: P) => `Your jobs — ${s(p, 'n')} waiting or running:`,
  'me.none': 'Nothing of yours is waiting or running.',
  'me.job': (p: P) => `• ${s(p, 'id')} ${s(p, 'workflow')} — ${s(p, 'state')}`,
  'me.running': (p: P) => `running, ${s(p, 'progress')}%`,
  'me.today': (p: P) => `Today: ${s(p, 'n')} job(s)`,
  'me.rate': (p: P) =>
    `This minute: ${s(p, 'left')} of ${s(p, 'max')} jobs left${p.time ? ` (all back in ${s(p, 'time')})` : ''}`,
  'me.queue': (p: P) => `Queue: ${s(p, 'used')} of ${s(p, 'max')} places used (one frees up as each job ends)`,
  'me.exempt': 'Limits: none (you are an admin)',
  'me.button_cancel': (p: P) => `✖ ${s(p, 'id')}`,
  'me.button_refresh': '🔄 Refresh',
  'show.gone': (p: P) => `(${s(p, 'n')} file(s) of this job are no longer kept.)`,
  'bot.button_star': '⭐ Star',
  'bot.button_starred': '⭐ Starred ✓',
  'discord.option_starred': 'Only your starred jobs',
  'bot.gallery_starred_empty': 'No starred jobs yet: press ⭐ Star under a result.',
  'bot.gallery_starred_caption': (p: P) =>
    `Your starred work — page ${s(p, 'page')} of ${s(p, 'pages')}. Tap a number to open it.`,
  'discord.option_job': 'Job id (from a message or /gallery)',
  'discord.option_page': 'Page number',
  'discord.option_prompt': 'The new prompt (leave empty to edit it in a form)',
  'discord.status_description': 'Queue and worker status (admins)',
  'discord.moved': (p: P) => `Progress continues here: ${s(p, 'link')}`,
  'discord.continued': '⤵ continued in a newer message',
  'discord.cannot_post':
    'Note: I cannot post in this channel, so progress stops updating after 15 minutes. Use /gallery to get the result.',
  'discord.remix_title': 'Remix',
  'discord.remix_label': 'New prompt (options like --steps 30 work too)',
  'bot.file_skipped': (p: P) =>
    `${s(p, 'name')} (${s(p, 'size')} MB) is too large to send here (limit ${s(p, 'max')} MB). It's saved — ask an admin for it.`,
  'discord.gallery_pick': 'Open a job…',
  'input.missing_audio': (p: P) =>
    `This command needs a recording${p.label ? `: “${s(p, 'label')}”` : ''}.${p.how ? ` ${s(p, 'how')}` : ''}`,
  'input.not_audio': 'That file is not audio I can read (MP3, WAV, OGG/Opus voice, M4A or FLAC).',
  'input.audio_too_long': (p: P) => `That recording is too long: ${s(p, 'seconds')} s, at most ${s(p, 'max')} s.`,
  'error.no_capable_worker': (p: P) =>
    `No GPU server that can run /${s(p, 'name')} is online right now${p.missing ? ` (it needs ${s(p, 'missing')})` : ''}.`,
  'bot.file_link': (p: P) =>
    `${s(p, 'name')} (${s(p, 'size')} MB) is too large to send here. Download it (the link works for ${s(p, 'hours')} h): ${s(p, 'url')}`,
  'input.expired': 'The file from that job is no longer kept. Send it again with the command.',
  'cli.saved': (p: P) => `Saved ${s(p, 'count')} file(s) to ${s(p, 'dir')}`,
  'cli.cancelling': 'Cancelling…',
  'cli.local_worker': 'No worker is online: running one in this process for this job.',
  'cli.usage': 'Usage: npm run cli -- <command> [text] [--option value …] [--out DIR]',
  'cli.more': 'The options of one command: npm run cli -- <command> --help',
  'cli.doctor': 'Check the settings, Redis, ComfyUI and the workflows',
  'cli.workflows': 'List the workflows',
  'cli.option_out': 'Also save the results in this folder',
} as const;

export type MessageKey = keyof typeof en;
export type Catalog = { [K in MessageKey]: (typeof en)[K] extends string ? string : (p: P) => string };
