import { describe, expect, it } from 'vitest'
import { ExitCode, OpsError } from '../../src/core/index.js'
import { isLoopbackAddress, probeTarget, resolveTarget } from '../../src/load/target.js'
import { startTestServer } from './support.js'

describe('load targets', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['192.168.1.10', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['localhost', false],
    ['', false],
  ])('%s is loopback: %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback)
  })

  it('accepts loopback targets and keeps their base path and Host', async () => {
    const target = await resolveTarget('http://localhost:3000/api/', { allowRemote: false })
    expect(isLoopbackAddress(target.address)).toBe(true)
    expect(target).toMatchObject({ host: 'localhost:3000', port: 3000, basePath: '/api', protocol: 'http:' })
  })

  it('refuses a remote target unless --allow-remote (exit 2)', async () => {
    const refusal = await resolveTarget('http://10.1.2.3:8080', { allowRemote: false }).catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(OpsError)
    expect((refusal as OpsError).exit).toBe(ExitCode.BadInput)
    expect((refusal as OpsError).message).toMatch(/not a loopback address/)
    expect((refusal as OpsError).hint).toMatch(/--allow-remote/)
    await expect(resolveTarget('http://10.1.2.3:8080', { allowRemote: true })).resolves.toMatchObject({ address: '10.1.2.3' })
  })

  it('refuses what is not an http URL', async () => {
    await expect(resolveTarget('ftp://127.0.0.1/', { allowRemote: false })).rejects.toThrow(/only http/)
    await expect(resolveTarget('not a url', { allowRemote: false })).rejects.toThrow(/not a URL/)
  })

  it('finds an unreachable target before the run (exit 3) and a listening one', async () => {
    const server = await startTestServer()
    const target = await resolveTarget(server.url, { allowRemote: false })
    await expect(probeTarget(target)).resolves.toBeUndefined()
    await server.close()
    const failure = await probeTarget(target).catch((error: unknown) => error)
    expect((failure as OpsError).exit).toBe(ExitCode.Environment)
    expect((failure as OpsError).message).toMatch(/ECONNREFUSED/)
  })
})
