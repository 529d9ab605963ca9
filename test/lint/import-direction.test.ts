import { ESLint } from 'eslint'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/cli.js'

const eslint = new ESLint({ cwd: ROOT })

async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) })
  return result!.messages.filter((message) => message.ruleId === 'opsctl/import-direction').map((message) => message.message)
}

describe('the import-direction lint rule (DESIGN.md "Dependencies point inward")', () => {
  it('lets a module import another through its index', async () => {
    expect(
      await violations('src/journal/store.ts', "import { redactValue } from '../core/index.js'\nexport const x = redactValue"),
    ).toEqual([])
  })

  it('refuses reaching into another module past its index', async () => {
    const found = await violations('src/journal/store.ts', "import { openDatabase } from '../db/open.js'\nexport const x = openDatabase")
    expect(found).toEqual([expect.stringMatching(/through src\/db\/index\.ts/)])
  })

  it('refuses src/core importing any other module', async () => {
    const found = await violations('src/core/config.ts', "import { openDatabase } from '../db/index.js'\nexport const x = openDatabase")
    expect(found).toEqual([expect.stringMatching(/src\/core imports no other module/)])
  })

  it('refuses src/ importing commands/', async () => {
    const found = await violations('src/db/open.ts', "import X from '../../commands/config/show.js'\nexport const x = X")
    expect(found).toEqual([expect.stringMatching(/must not import commands/)])
  })

  it('refuses a module importing the dashboard, but lets commands do it', async () => {
    expect(await violations('src/gate/check.ts', "import { App } from '../dashboard/index.js'\nexport const x = App")).toHaveLength(1)
    expect(await violations('commands/dashboard.ts', "import { App } from '../src/dashboard/index.js'\nexport const x = App")).toEqual([])
  })

  it('requires commands to use module indexes too', async () => {
    expect(
      await violations(
        'commands/db/x.ts',
        "import { startEmbeddedServer } from '../../src/db/embedded.js'\nexport const x = startEmbeddedServer",
      ),
    ).toHaveLength(1)
  })

  it('refuses src/ importing the reference service, except the demo through its index', async () => {
    const probe = "import { migrate } from '../../reference-service/src/index.js'\nexport const x = migrate"
    expect(await violations('src/core/probe.ts', probe)).toEqual([
      expect.stringMatching(/reaches the reference service only through src\/demo/),
    ])
    expect(await violations('src/demo/probe.ts', probe)).toEqual([])
    const pastSeam = "import { buildApp } from '../../reference-service/src/app.js'\nexport const x = buildApp"
    expect(await violations('src/demo/probe.ts', pastSeam)).toHaveLength(1)
  })

  it('refuses an import that closes a cycle between modules', async () => {
    // the incident module imports the journal, so the journal importing incident would close a cycle
    const found = await violations(
      'src/journal/probe.ts',
      "import { replayIncident } from '../incident/index.js'\nexport const x = replayIncident",
    )
    expect(found).toEqual([expect.stringMatching(/journal -> incident -> journal/)])
  })

  it('lets tests import a module past its index', async () => {
    expect(
      await violations(
        'test/db/probe.test.ts',
        "import { startEmbeddedServer } from '../../src/db/embedded.js'\nexport const x = startEmbeddedServer",
      ),
    ).toEqual([])
  })
})
