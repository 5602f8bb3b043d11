// Test setup: the same Node engine settings a user gets from `keel/node` or the CLI.
import '../src/io/node/engine.js';
