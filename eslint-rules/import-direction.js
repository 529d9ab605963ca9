// DESIGN.md "Dependencies point inward", as a lint rule:
// - a module in src/<name>/ imports another module only through src/<other>/index.ts;
// - src/core imports no other module;
// - nothing in src/ imports commands/, and only commands/ and src/dashboard may import src/dashboard.
import path from 'node:path'

const SOURCE_EXTENSIONS = /\.(js|ts|tsx|mjs)$/

/** 'src/db/open.ts' -> { area: 'src', module: 'db', rest: 'open.ts' } */
function locate(file, root) {
  const relative = path.relative(root, file).split(path.sep).join('/')
  const [area, module, ...rest] = relative.split('/')
  if (area === 'src') return { area, module, rest: rest.join('/') }
  return { area, module: undefined, rest: [module, ...rest].join('/') }
}

function isIndex(rest) {
  return /^index\.(js|ts|tsx)$/.test(rest)
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the import direction of DESIGN.md between src/ modules and commands/' },
    schema: [],
    messages: {
      notThroughIndex: "'{{from}}' imports '{{target}}': import the {{module}} module through src/{{module}}/index.ts.",
      coreImportsModule: "src/core imports no other module, but imports '{{target}}'.",
      importsCommands: "src/ must not import commands/ ('{{target}}').",
      importsDashboard: "Only commands/ and src/dashboard may import the dashboard ('{{target}}').",
    },
  },
  create(context) {
    const root = context.cwd
    const file = context.filename
    const from = locate(file, root)

    function check(node, specifier) {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return
      const targetFile = path.resolve(path.dirname(file), specifier)
      const target = locate(targetFile, root)
      const data = { from: path.relative(root, file), target: specifier, module: target.module }
      if (from.area === 'src' && target.area === 'commands') return context.report({ node, messageId: 'importsCommands', data })
      if (target.area !== 'src' || target.module === from.module && from.area === 'src') return
      if (target.module === 'dashboard' && from.area !== 'commands' && from.module !== 'dashboard') {
        return context.report({ node, messageId: 'importsDashboard', data })
      }
      if (from.area === 'src' && from.module === 'core') return context.report({ node, messageId: 'coreImportsModule', data })
      if (!isIndex(target.rest.replace(SOURCE_EXTENSIONS, '.ts'))) context.report({ node, messageId: 'notThroughIndex', data })
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    }
  },
}
