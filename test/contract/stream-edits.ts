// Negative tests of stream contracts edit one stream of a manifest: the CRM connectors' streams share
// their pagination and cursor text (contacts, companies and deals page alike), so an edit is applied
// to the named stream's block only, and must change it exactly there.

/** An edit of the block of stream `stream` only (from its key to the next key at its indentation or a top-level key). */
export function inStream(stream: string, edit: (block: string) => string): (text: string) => string {
  return (text) => {
    const head = `\n  ${stream}:\n`;
    const start = text.indexOf(head);
    if (start < 0 || text.indexOf(head, start + 1) >= 0) throw new Error(`expected exactly one "  ${stream}:" key in the manifest`);
    const from = start + head.length;
    const rest = text.slice(from).search(/\n {2}[a-z0-9_]+:\n|\n[^\s#]/);
    const end = rest < 0 ? text.length : from + rest;
    return text.slice(0, from) + edit(text.slice(from, end)) + text.slice(end);
  };
}
