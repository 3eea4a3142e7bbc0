// The project's seeded generator lives in the bottom layer (core/), for every layer.
export { Rng } from '../core/rng';
