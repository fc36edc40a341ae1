// Module hooks for scripts/files-entered.mjs (registered with module.register in the
// measured server process, so they run on Node's loader thread): every function of the
// checkout's dist/src/**/*.js gets, as its first statement, a call
// `globalThis.__etltEnter(FILE)`, which tells the server process which file was entered
// and (from the stack) from where. Nothing else of the code changes: a function's own
// calls, branches and results are the same, so V8's call counts of it are too.
import ts from 'typescript';

let prefix = '';

/** `data.prefix`: the file URL of the checkout's dist/src/, the only files instrumented. */
export function initialize(data) {
  prefix = data.prefix;
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.startsWith(prefix) || !url.endsWith('.js') || loaded.format !== 'module') return loaded;
  const source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source).toString('utf8');
  return { ...loaded, source: instrument(source, url.slice(prefix.length)) };
}

const FUNCTION_KINDS = new Set([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.FunctionExpression,
  ts.SyntaxKind.ArrowFunction,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.Constructor,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
]);

/** `source` with the entry call inserted into every function body that has one. */
export function instrument(source, file) {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const call = `globalThis.__etltEnter(${JSON.stringify(file)})`;
  const inserts = []; // [position, text], in the order the walk meets them
  const visit = (node) => {
    if (FUNCTION_KINDS.has(node.kind) && node.body) {
      if (ts.isBlock(node.body)) {
        inserts.push([node.body.getStart(sf) + 1, `${call};`]);
      } else {
        // An arrow's expression body: (call, expression). The closing parenthesis of an
        // outer arrow must follow an inner one's at the same position: see the sort below.
        inserts.push([node.body.getStart(sf), `(${call}, `]);
        inserts.push([node.body.end, ')']);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // Applied from the end; at one position the insert met first (the outer function's)
  // is applied first and so ends up last.
  const order = inserts.map((ins, i) => [ins, i]).sort((a, b) => b[0][0] - a[0][0] || a[1] - b[1]);
  let out = source;
  for (const [[pos, text]] of order) out = out.slice(0, pos) + text + out.slice(pos);
  return out;
}
