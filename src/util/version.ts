/** keel's version, as in package.json (test/cli.test.ts checks that they agree). */
export const KEEL_VERSION = '0.1.0';
