// Parses Mermaid diagrams with mermaid's own parser, as GitHub's renderer would read them, and
// prints one result per diagram: null when it parses, else the parser's message. Input: a JSON
// array of diagram sources on stdin. Mermaid is an ES module that wants a DOM (for its sanitizer):
// jsdom stands in for the browser, and this runs as its own Node process because Jest's CommonJS
// runtime cannot import it.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) {
    input += chunk;
}
const results = [];
for (const source of JSON.parse(input)) {
    try {
        await mermaid.parse(source);
        results.push(null);
    } catch (err) {
        results.push(String(err?.message ?? err));
    }
}
process.stdout.write(JSON.stringify(results));
