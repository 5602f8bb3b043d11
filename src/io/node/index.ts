/** Node-only entry (`keel/node`): file access for data sets. */
export * from './fashionMnist.js';
