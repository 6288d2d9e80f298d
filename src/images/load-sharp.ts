/**
 * sharp, loaded at the first image rather than at start-up: libvips and its bindings cost 0.1–0.2 s of CPU to load,
 * and a process that never draws an image (a worker, a bot between results) never pays it. Node caches the module
 * after the first call.
 */
export const loadSharp = async () => (await import('sharp')).default;
