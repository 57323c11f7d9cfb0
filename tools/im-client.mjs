// A minimal IM client for trying the gateway by hand: prints every frame and the close.
// Node 22+:  node tools/im-client.mjs http://127.0.0.1:5000 TOKEN
// Node 20:   node --experimental-websocket tools/im-client.mjs http://127.0.0.1:5000 TOKEN
const [base = 'http://127.0.0.1:5000', token = ''] = process.argv.slice(2);
const url = `${base.replace(/^http/, 'ws')}/im/connect?token=${encodeURIComponent(token)}`;
const ws = new WebSocket(url);
const started = Date.now();
const stamp = () => `+${((Date.now() - started) / 1000).toFixed(3)}s`;
ws.onopen = () => console.log(stamp(), 'open', url);
ws.onmessage = (e) => console.log(stamp(), e.data);
ws.onclose = (e) => { console.log(stamp(), `closed ${e.code} ${e.reason}`); process.exit(0); };
ws.onerror = (e) => console.error(stamp(), 'error', e.message ?? '');
process.on('SIGINT', () => ws.close(1000, 'bye'));
