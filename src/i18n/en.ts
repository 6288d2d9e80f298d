/** English catalog: the keys every other catalog must have (zh-TW.ts `satisfies Catalog`). */
type P = Record<string, string | number>;
const s = (p: P, k: string) => String(p[k] ?? '');

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
  'error.unknown_option': (p: P) => `Unknown option --${s(p, 'name')}.`,
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
  'error.internal': (p: P) => `Something went wrong (ref ${s(p, 'ref')}).`,
  'error.unknown_button': 'This button is from an older message and no longer works.',
  'input.missing_image': (p: P) =>
    `This command needs an image (${s(p, 'name')}): send a photo with the command as its caption, or reply to a photo.`,
  'input.not_image': 'That file is not an image I can read (PNG, JPEG, WebP or GIF).',
  'input.corrupt_image': 'That image is damaged and cannot be decoded.',
  'input.too_many_pixels': (p: P) =>
    `That image is too large: ${s(p, 'width')}×${s(p, 'height')} pixels, at most ${s(p, 'max')} megapixels.`,
  'input.file_too_big': (p: P) => `That file is too big to download: ${s(p, 'size')} MB, at most ${s(p, 'max')} MB.`,
  'bot.start': 'Hi! I turn text and pictures into images with ComfyUI. Try /imagine a red fox in snow — or /help.',
  'bot.help_header': 'Commands:',
  'bot.help_options': 'Options go after the text as --name value, e.g. /imagine a fox --aspect 16:9 --count 2.',
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
  'bot.result_caption': (p: P) => `${s(p, 'prompt')}\nseed ${s(p, 'seed')} · ${s(p, 'time')} · job ${s(p, 'id')}`,
  'bot.models_header': 'Models you can pick:',
  'bot.models_none': 'ComfyUI reports no selectable models right now.',
  'bot.cancel_requested': (p: P) => `Cancelling job ${s(p, 'id')}…`,
  'bot.nothing_to_cancel': 'You have no job waiting or running.',
  'bot.status': (p: P) =>
    `Queue: ${s(p, 'waiting')} waiting, ${s(p, 'active')} running, ${s(p, 'failed')} failed\nWorkers online: ${s(p, 'workers')}\nHistory: ${s(p, 'succeeded')} done, ${s(p, 'failed_hist')} failed, ${s(p, 'cancelled')} cancelled`,
  'bot.status_worker': (p: P) =>
    `• ${s(p, 'url')} — ${p.job ? `busy (job ${s(p, 'job')})` : 'idle'}${p.gpu ? ` · ${s(p, 'gpu')} · VRAM ${s(p, 'free')} of ${s(p, 'total')} GB free` : ''}`,
  'bot.status_stuck': (p: P) => `Stuck (unfinished after ${s(p, 'time')}): ${s(p, 'jobs')}`,
  'bot.job_details': (p: P) => `${s(p, 'workflow')} · job ${s(p, 'id')} · ${s(p, 'status')}\n${s(p, 'params')}`,
  'menu.gallery': 'Your past work',
  'menu.remix': 'Run a job again with changes',
  'menu.cancel': 'Cancel a job',
  'menu.models': 'Models you can pick',
  'menu.help': 'How to use this bot',
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
    `${s(p, 'name')} (${s(p, 'size')} MB) is above the upload limit here (${s(p, 'max')} MB) and was not sent. It is kept: ask an admin, or set PUBLIC_URL for download links.`,
  'discord.gallery_pick': 'Open a job…',
  'input.missing_audio': (p: P) =>
    `This command needs audio (${s(p, 'name')}): send a voice message or an audio file with the command, or reply to one.`,
  'input.not_audio': 'That file is not audio I can read (MP3, WAV, OGG/Opus voice, M4A or FLAC).',
  'input.audio_too_long': (p: P) => `That recording is too long: ${s(p, 'seconds')} s, at most ${s(p, 'max')} s.`,
  'error.no_capable_worker': (p: P) =>
    `No GPU server that can run /${s(p, 'name')} is online right now${p.missing ? ` (it needs ${s(p, 'missing')})` : ''}.`,
  'bot.file_link': (p: P) =>
    `${s(p, 'name')} (${s(p, 'size')} MB) is too large to send here. Download it (the link works for ${s(p, 'hours')} h): ${s(p, 'url')}`,
  'input.expired': (p: P) => `The ${s(p, 'name')} of that job is no longer kept. Send it again with the command.`,
  'cli.saved': (p: P) => `Saved ${s(p, 'count')} file(s) to ${s(p, 'dir')}`,
  'cli.cancelling': 'Cancelling…',
  'cli.local_worker': 'No worker is online: running one in this process for this job.',
  'cli.usage': 'Usage: npm run cli -- <workflow> "prompt" [--option value …] [--out DIR] | doctor | workflows',
} as const;

export type MessageKey = keyof typeof en;
export type Catalog = { [K in MessageKey]: (typeof en)[K] extends string ? string : (p: P) => string };
