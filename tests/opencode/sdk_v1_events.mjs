// Drives the default (v1) client of @opencode-ai/sdk against a server: create a session,
// subscribe to /event, send a prompt once the stream is connected, wait for the session's
// session.idle, read the reply's message back; prints {session, reply, message, events} as JSON
// (with "error" and exit code 1 when something did not happen in time).
// Usage: node sdk_v1_events.mjs <dir holding node_modules/@opencode-ai/sdk> <base URL> <prompt>
import path from "node:path";
import { pathToFileURL } from "node:url";

const [sdkDir, baseUrl, text] = process.argv.slice(2);
const { createOpencodeClient } = await import(pathToFileURL(path.join(sdkDir, "node_modules/@opencode-ai/sdk/dist/index.js")).href);
const client = createOpencodeClient({ baseUrl });
const out = { events: [] };
const within = (promise, seconds, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${seconds} s`)), seconds * 1000))]);

try {
  const created = await client.session.create({ body: {} });
  if (!created.data) throw new Error(`session.create: ${JSON.stringify(created.error)}`);
  out.session = created.data.id;
  let connected, idle;
  const isConnected = new Promise((resolve) => (connected = resolve));
  const isIdle = new Promise((resolve) => (idle = resolve));
  const events = await client.event.subscribe();
  (async () => {
    for await (const event of events.stream) {
      out.events.push(event);
      if (event.type === "server.connected") connected();
      if (event.type === "session.idle" && event.properties.sessionID === out.session) idle();
    }
  })();
  await within(isConnected, 20, "server.connected event");
  const reply = await client.session.prompt({ path: { id: out.session }, body: { parts: [{ type: "text", text }] } });
  if (!reply.data) throw new Error(`session.prompt: ${JSON.stringify(reply.error)}`);
  out.reply = reply.data;
  await within(isIdle, 20, "session.idle event");
  const message = await client.session.message({ path: { id: out.session, messageID: reply.data.info.id } });
  out.message = message.data ?? { error: message.error };
  console.log(JSON.stringify(out));
  process.exit(0);
} catch (error) {
  out.error = String(error);
  console.log(JSON.stringify(out));
  process.exit(1);
}
