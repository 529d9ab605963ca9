import { describe, expect, it } from 'vitest'
import { detectActor } from '../../src/journal/index.js'
import { isCi } from '../../src/journal/actor.js'

describe('the actor of an event', () => {
  it('is the login name outside CI', () => {
    expect(detectActor({ USER: 'alice' })).toBe('alice')
    expect(detectActor({ LOGNAME: 'bob' })).toBe('bob')
    expect(detectActor({}, 'carol')).toBe('carol')
    expect(detectActor({})).toBe('unknown')
  })

  it('is OPSCTL_ACTOR when set, in CI too', () => {
    expect(detectActor({ OPSCTL_ACTOR: 'release-bot', CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'octocat' })).toBe('release-bot')
  })

  it('is the GitHub Actions user, workflow and run', () => {
    const env = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTOR: 'octocat',
      GITHUB_WORKFLOW: 'deploy',
      GITHUB_RUN_ID: '123456',
      USER: 'runner',
    }
    expect(detectActor(env)).toBe('octocat@github-actions:deploy#123456')
  })

  it('is the GitLab CI user, job and id', () => {
    const env = { CI: 'true', GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'alice', CI_JOB_NAME: 'migrate', CI_JOB_ID: '789' }
    expect(detectActor(env)).toBe('alice@gitlab-ci:migrate#789')
  })

  it('leaves out what a provider does not give', () => {
    expect(detectActor({ CI: 'true', GITLAB_CI: 'true', CI_JOB_ID: '789' })).toBe('gitlab-ci#789')
    expect(detectActor({ CI: 'true', CIRCLECI: 'true', CIRCLE_JOB: 'test', CIRCLE_BUILD_NUM: '5' })).toBe('circleci:test#5')
    expect(detectActor({ JENKINS_URL: 'http://ci', JOB_NAME: 'api', BUILD_NUMBER: '42' })).toBe('jenkins:api#42')
  })

  it('is a generic CI job when CI is set by an unknown provider', () => {
    expect(detectActor({ CI: '1', USER: 'builder' })).toBe('builder@ci')
    expect(detectActor({ CI: 'true' })).toBe('ci')
  })

  it('treats CI=false as not CI', () => {
    expect(isCi({ CI: 'false' })).toBe(false)
    expect(isCi({ CI: '0' })).toBe(false)
    expect(detectActor({ CI: 'false', USER: 'alice' })).toBe('alice')
    expect(isCi({ GITHUB_ACTIONS: 'true' })).toBe(true)
  })
})
