import { describe, expect, it } from 'vitest';
import { checkAudio } from '../../src/media/audio.js';
import { wav } from '../support/media.js';

describe('audio checks', () => {
  it('measures a WAV from its samples, not from a header that claims less', async () => {
    const long = wav(90);
    long.writeUInt32LE(8000 * 2 * 5, 40); // the data chunk says 5 s; 90 s of samples follow
    long.writeUInt32LE(36 + 8000 * 2 * 5, 4);
    await expect(checkAudio(long, 60)).rejects.toMatchObject({ key: 'input.audio_too_long', params: { max: 60 } });
  });

  it('accepts an honest WAV within the limit and names its container', async () => {
    await expect(checkAudio(wav(3), 60)).resolves.toMatchObject({ ext: 'wav' });
  });

  it('refuses bytes that are not audio', async () => {
    await expect(checkAudio(Buffer.from('not audio at all, just text'), 60)).rejects.toMatchObject({
      key: 'input.not_audio',
    });
  });
});
