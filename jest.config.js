// Nest 12, jose and openid-client ship ESM only; swc compiles them (and our TypeScript) to
// CommonJS for Jest, which cannot load ESM on Node 20 (plain ts-jest fails on their `import`s).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|jose|openid-client|oauth4webapi|content-disposition|fast-check|pure-rand|cookie)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/server/src/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 30 },
    // Needs PostgreSQL 15 binaries (the tests start, stop and restart their own servers): .ci/run.
    { ...common, displayName: 'pg', testMatch: ['<rootDir>/test/pg/**/*.pg-spec.ts'], slowTestThreshold: 60 },
  ],
  testTimeout: 30000,
};
