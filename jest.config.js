// Unit tests: ts-jest over src/**/__tests__/*.spec.ts(x).
// The TypeScript options are the project's, compiled to CommonJS for jest.
const { compilerOptions } = require('./tsconfig.json');

module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.spec.ts?(x)'],
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      {
        tsconfig: {
          ...compilerOptions,
          module: 'commonjs',
          composite: false,
          incremental: false,
          declaration: false,
          noEmitOnError: false,
          noUnusedLocals: false,
          types: ['jest', 'node']
        }
      }
    ]
  },
  moduleNameMapper: {
    '\\.(css|svg)$': '<rootDir>/src/__tests__/fixtures/fileStub.js'
  },
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/**/__tests__/**',
    '!src/index.ts',
    '!src/panel.tsx'
  ],
  coverageReporters: ['text-summary', 'lcov'],
  reporters: ['default']
};
