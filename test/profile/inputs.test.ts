import { describe, expect, it } from 'vitest'
import { commandAfterDashes, parseRequestRate, profileInputs, scriptLabel } from '../../src/profile/command-inputs.js'
import { expectedPort, loadUrlFor } from '../../src/profile/load-target.js'
import { isNodeCommand } from '../../src/profile/target.js'

const context = {
  stateDir: '/srv/app/.opsctl',
  services: { reference: () => ['--import', 'tsx/esm', '/opt/opsctl/reference-service/src/server.ts'] },
}

describe('where the load goes', () => {
  it('loads a path on the port the target opens', () => {
    expect(expectedPort({ url: '/reports?top=3' })).toBeUndefined()
    expect(loadUrlFor({ url: '/reports?top=3' }, { port: 4100, address: '127.0.0.1' })).toBe('http://127.0.0.1:4100/reports?top=3')
  })

  it('waits for the port a URL names, and takes the first one when it names none', () => {
    expect(expectedPort({ url: 'http://localhost:3000/orders' })).toBe(3000)
    expect(expectedPort({ url: 'http://127.0.0.1/orders' })).toBeUndefined()
    expect(loadUrlFor({ url: 'http://localhost/orders' }, { port: 4100, address: '::' })).toBe('http://127.0.0.1:4100/orders')
    expect(loadUrlFor({ url: 'http://[::1]:4100/' }, { port: 4100, address: '::1' })).toBe('http://[::1]:4100/')
  })

  it('sends a scenario to the target, keeping the base path of its own target', () => {
    expect(loadUrlFor({ scenarioFile: 's.yaml', scenarioTarget: 'http://127.0.0.1:3000/api/' }, { port: 4100, address: '0.0.0.0' })).toBe(
      'http://127.0.0.1:4100/api',
    )
    expect(loadUrlFor({ scenarioFile: 's.yaml' }, { port: 4100, address: '0.0.0.0' })).toBe('http://127.0.0.1:4100')
  })

  it('refuses hosts other than this machine and URLs that are not http (exit 2)', () => {
    expect(() => expectedPort({ url: 'http://10.0.0.5:3000/' })).toThrow(
      expect.objectContaining({ exit: 2, message: expect.stringContaining('only loads the process it started') }),
    )
    expect(() => expectedPort({ url: 'ftp://127.0.0.1/' })).toThrow(expect.objectContaining({ exit: 2 }))
    expect(() => expectedPort({ url: 'orders' })).toThrow(expect.objectContaining({ exit: 2 }))
  })
})

describe('the profile commands’ inputs', () => {
  it('takes the command after -- and names the target by its script', () => {
    expect(commandAfterDashes(['--load', '/', '--', 'node', '--import', 'tsx', 'src/server.ts', '--port', '3'])).toEqual([
      'node',
      '--import',
      'tsx',
      'src/server.ts',
      '--port',
      '3',
    ])
    expect(scriptLabel(['node', '--import', 'tsx', 'src/server.ts', '--port', '3'])).toBe('server.ts')
    expect(scriptLabel(['node', '--max-old-space-size=512', '-r', 'dotenv/config', 'app.js'])).toBe('app.js')
    expect(isNodeCommand(['/usr/local/bin/node', 'app.js'])).toBe(true)
    expect(isNodeCommand(['npm', 'start'])).toBe(false)
  })

  it('defaults the reference service to its CPU-heavy report and the output to .opsctl/profiles/<time>', () => {
    const inputs = profileInputs({ service: 'reference' }, [], { ...context, databaseUrl: 'postgres://db/app' })
    expect(inputs.load).toEqual({ url: '/reports/revenue' })
    expect(inputs.target.label).toBe('reference')
    // the command comes from the caller (the command layer asks the demo module), as plain data
    expect(inputs.target.command).toEqual([process.execPath, '--import', 'tsx/esm', '/opt/opsctl/reference-service/src/server.ts'])
    expect(inputs.target.env).toMatchObject({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'postgres://db/app' })
    expect(inputs.outDir).toMatch(/^\/srv\/app\/\.opsctl\/profiles\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/)
  })

  it('says what is missing or contradictory (exit 2)', () => {
    const fails = (flags: Parameters<typeof profileInputs>[0], command: string[], text: string) =>
      expect(() => profileInputs(flags, command, context)).toThrow(
        expect.objectContaining({ exit: 2, message: expect.stringContaining(text) }),
      )
    fails({ load: '/' }, [], 'Nothing to profile')
    fails({}, ['node', 'app.js'], 'Where should the load go?')
    fails({ service: 'reference' }, ['node', 'app.js'], 'either --service or a command')
    fails({ load: '/', scenario: 's.yaml' }, ['node', 'app.js'], 'either --load or --scenario')
    fails({ load: '/', duration: 200 }, ['node', 'app.js'], '--duration must be at least 1s')
    fails({ service: 'billing' }, [], 'Unknown service "billing"')
  })

  it('reads --rate as requests per second, and refuses anything else (exit 2)', () => {
    expect(parseRequestRate('200')).toBe(200)
    expect(parseRequestRate('0.5')).toBe(0.5)
    for (const text of ['0', '-5', '1e3', 'fast', '', '10rps', '1.', 'Infinity', '9'.repeat(400)])
      expect(() => parseRequestRate(text), text).toThrow(expect.objectContaining({ exit: 2, message: expect.stringContaining('--rate') }))
  })
})
