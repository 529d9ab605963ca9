import { configDefaults, defineConfig } from 'vitest/config'

// Test files whose verdicts rest on measured latency, rate or CPU shares: the gate's load regression
// and profile growth checks, the profiler's attribution on the reference service, the load runner's
// latency and rate bounds, the load comparison's A/A and +30% verdicts. They run alone, after the
// rest: on two cores, sharing the machine with another file's servers and profilers made an A/A
// latency comparison read +200% in CI. Everything else runs two files at a time.
const MEASURING = [
  'test/gate/gate.integration.test.ts',
  'test/profile/reference-service.test.ts',
  'test/load/runner.test.ts',
  'test/load/regression.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: [...configDefaults.exclude, ...MEASURING],
          // integration tests start servers and child processes; two cores, so keep it modest
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'measuring', include: MEASURING, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
