/**
 * Who recorded an event: `OPSCTL_ACTOR` when set; in CI the job, as
 * `user@provider:job#run` (parts the provider does not give are left out); otherwise the
 * login name. Pure over the environment so that every CI provider is a unit test.
 */
type Env = Record<string, string | undefined>

interface CiJob {
  provider: string
  user?: string | undefined
  job?: string | undefined
  run?: string | undefined
}

const PROVIDERS: Array<{ when: (env: Env) => boolean; job: (env: Env) => CiJob }> = [
  {
    when: (env) => env.GITHUB_ACTIONS === 'true' || Boolean(env.GITHUB_RUN_ID),
    job: (env) => ({ provider: 'github-actions', user: env.GITHUB_ACTOR, job: env.GITHUB_WORKFLOW, run: env.GITHUB_RUN_ID }),
  },
  {
    when: (env) => Boolean(env.GITLAB_CI || env.CI_JOB_ID),
    job: (env) => ({ provider: 'gitlab-ci', user: env.GITLAB_USER_LOGIN, job: env.CI_JOB_NAME, run: env.CI_JOB_ID }),
  },
  {
    when: (env) => Boolean(env.CIRCLECI),
    job: (env) => ({ provider: 'circleci', user: env.CIRCLE_USERNAME, job: env.CIRCLE_JOB, run: env.CIRCLE_BUILD_NUM }),
  },
  {
    when: (env) => Boolean(env.BUILDKITE),
    job: (env) => ({
      provider: 'buildkite',
      user: env.BUILDKITE_BUILD_CREATOR_EMAIL ?? env.BUILDKITE_BUILD_CREATOR,
      job: env.BUILDKITE_PIPELINE_SLUG,
      run: env.BUILDKITE_BUILD_NUMBER,
    }),
  },
  {
    when: (env) => Boolean(env.TF_BUILD),
    job: (env) => ({ provider: 'azure-pipelines', user: env.BUILD_REQUESTEDFOR, job: env.BUILD_DEFINITIONNAME, run: env.BUILD_BUILDID }),
  },
  {
    when: (env) => Boolean(env.BITBUCKET_BUILD_NUMBER),
    job: (env) => ({
      provider: 'bitbucket',
      user: env.BITBUCKET_STEP_TRIGGERER_UUID,
      job: env.BITBUCKET_REPO_SLUG,
      run: env.BITBUCKET_BUILD_NUMBER,
    }),
  },
  {
    when: (env) => Boolean(env.JENKINS_URL || env.JENKINS_HOME),
    job: (env) => ({ provider: 'jenkins', user: env.BUILD_USER_ID, job: env.JOB_NAME, run: env.BUILD_NUMBER }),
  },
]

/** Whether the environment is a CI job: `CI` set to anything but false/0, or a provider's own marker. */
export function isCi(env: Env): boolean {
  const ci = env.CI?.trim().toLowerCase()
  if (ci && ci !== 'false' && ci !== '0') return true
  return PROVIDERS.some((provider) => provider.when(env))
}

export function detectActor(env: Env, loginName?: string): string {
  const explicit = env.OPSCTL_ACTOR?.trim()
  if (explicit) return explicit
  if (isCi(env)) {
    const provider = PROVIDERS.find((candidate) => candidate.when(env))
    return formatCiJob(provider ? provider.job(env) : { provider: 'ci', user: env.USER ?? loginName })
  }
  return env.USER?.trim() || env.LOGNAME?.trim() || env.USERNAME?.trim() || loginName || 'unknown'
}

function formatCiJob(job: CiJob): string {
  const user = job.user?.trim() ? `${job.user.trim()}@` : ''
  const name = job.job?.trim() ? `:${job.job.trim()}` : ''
  const run = job.run?.trim() ? `#${job.run.trim()}` : ''
  return `${user}${job.provider}${name}${run}`
}
