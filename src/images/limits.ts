/** Image limits, each with its source. Platform caps come from platforms.md (Telegram Bot API / Discord docs). */

/** Decompression-bomb guard: sharp refuses to decode more pixels than this (~50 MP; a 7000×7000 photo fits). */
export const MAX_INPUT_PIXELS = 50_000_000;
/** Largest input file we download from a chat, whatever the platform allows. */
export const MAX_INPUT_BYTES = 50 * 1000 * 1000;

export const telegramLimits = {
  /** sendPhoto: ≤ 10 MB, width + height ≤ 10000, aspect ratio ≤ 20 (TG#sendphoto). */
  photoBytes: 10 * 1000 * 1000,
  photoSideSum: 10_000,
  photoRatio: 20,
  /** sendDocument / sendVideo multipart upload: 50 MB (TG#senddocument). */
  documentBytes: 50 * 1000 * 1000,
  /** getFile: bots download at most 20 MB from the official server (TG#getfile). */
  downloadBytes: 20 * 1000 * 1000,
  caption: 1024,
  text: 4096,
  /** sendMediaGroup: 2–10 items (TG#sendmediagroup). */
  albumMax: 10,
};
