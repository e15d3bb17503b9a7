// Re-exported from its own layer (src/util) so traffic generators can use it without importing the scenario layer.
export * from '../util/units.js';
