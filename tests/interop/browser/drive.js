// Drives two test phones (phone.html) in one headless Chromium for
// tests/interop/ws_browser.sh, over the Chrome DevTools Protocol on a pipe
// (--remote-debugging-pipe: JSON messages ended by NUL on fds 3 and 4), so
// it needs nothing but Node.js and Chromium. It serves the pages itself on
// 127.0.0.1, opens alice and bob in two tabs, runs the scenario step by
// step (each step waits for what a page reports), prints each page's log
// as "NAME: LINE", and exits 0 when every step was seen, 1 otherwise.
//
// Environment: SK_CHROMIUM (the browser), SK_JSSIP (the JsSIP bundle),
// SK_WS_URL (sipkit's wss:// listener), SK_DOMAIN, SK_PROFILE (an empty
// directory for the browser's profile), SK_CHROME_LOG (its stderr),
// SK_HOME (the browser's home directory, whose .pki/nssdb trusts the test
// CA),
// SK_STEP_TIMEOUT (seconds a step may take, 20 by default), SK_TOTAL_TIMEOUT
// (seconds for them all, 60 by default), SK_HTTP_PORT
// (where the pages are served; any free port when unset). Passwords are
// the user's name followed by "pw".
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const env = (name) => {
    if (!process.env[name]) throw new Error(`${name} is not set`);
    return process.env[name];
};
const STEP_MS = Number(process.env.SK_STEP_TIMEOUT || 20) * 1000;
// All steps together: a slow machine fails with the pages' logs printed
// rather than being killed by the test's timeout.
const T0 = Date.now();
const END = T0 + Number(process.env.SK_TOTAL_TIMEOUT || 60) * 1000;
const step = (what) => console.log(`step: ${what} (at ${((Date.now() - T0) / 1000).toFixed(1)} s)`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The pages and the JsSIP bundle, on a port of the kernel's choosing.
function serve() {
    const files = {
        '/phone.html': [path.join(__dirname, 'phone.html'), 'text/html'],
        '/phone.js': [path.join(__dirname, 'phone.js'), 'text/javascript'],
        '/jssip.js': [env('SK_JSSIP'), 'text/javascript'],
    };
    const server = http.createServer((req, res) => {
        const f = files[new URL(req.url, 'http://x').pathname];
        if (!f) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { 'Content-Type': f[1], 'Cache-Control': 'no-store' });
        fs.createReadStream(f[0]).pipe(res);
    });
    return new Promise((resolve, reject) => {
        server.on('error', (e) => reject(new Error(`serving the pages: ${e.message}`)));
        server.listen(Number(process.env.SK_HTTP_PORT || 0), '127.0.0.1', () => resolve(server));
    });
}

// Chromium with the DevTools protocol on fds 3 (to it) and 4 (from it).
function launch() {
    const args = [
        '--headless=new', '--no-sandbox', '--disable-gpu', '--mute-audio',
        '--remote-debugging-pipe', `--user-data-dir=${env('SK_PROFILE')}`,
        '--no-first-run', '--no-default-browser-check', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic',
        '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
        '--disable-backgrounding-occluded-windows',
        '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
        // Both tabs' ICE host candidates may be on loopback only.
        '--allow-loopback-in-peer-connection',
        'about:blank',
    ];
    const err = fs.openSync(env('SK_CHROME_LOG'), 'w');
    // Its own process group, so that what it starts ends with it.
    const child = spawn(env('SK_CHROMIUM'), args, {
        stdio: ['ignore', err, err, 'pipe', 'pipe'],
        detached: true,
        // Chromium on Linux trusts the CAs of the NSS database in
        // $HOME/.pki/nssdb, where the test put its own.
        env: { ...process.env, HOME: env('SK_HOME') },
    });
    const kill = () => {
        try {
            process.kill(-child.pid, 'SIGKILL');
        } catch (e) {
            // already gone
        }
    };
    // Stopped from outside (the test's timeout): take the browser along.
    for (const sig of ['SIGTERM', 'SIGINT']) {
        process.on(sig, () => {
            kill();
            process.exit(1);
        });
    }
    const pending = new Map();
    let next = 0;
    let buf = '';
    child.stdio[4].setEncoding('utf8');
    child.stdio[4].on('data', (d) => {
        buf += d;
        for (let i; (i = buf.indexOf('\0')) >= 0; buf = buf.slice(i + 1)) {
            const m = JSON.parse(buf.slice(0, i));
            const p = m.id !== undefined && pending.get(m.id);
            if (!p) continue;
            pending.delete(m.id);
            if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}`));
            else p.resolve(m.result);
        }
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.on('exit', () => {
        for (const p of pending.values()) p.reject(new Error('the browser exited'));
    });
    const send = (method, params = {}, sessionId) =>
        new Promise((resolve, reject) => {
            const id = ++next;
            pending.set(id, { resolve, reject, method });
            child.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
        });
    return { send, exited, kill };
}

async function open(browser, name, url) {
    const { targetId } = await browser.send('Target.createTarget', { url });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    const page = { name, from: 0, log: [] };
    page.eval = async (expression) => {
        const r = await browser.send('Runtime.evaluate',
            { expression, returnByValue: true }, sessionId);
        if (r.exceptionDetails) throw new Error(`${name}: ${r.exceptionDetails.text} in ${expression}`);
        return r.result.value;
    };
    page.refresh = async () => {
        const log = await page.eval('window.phone ? window.phone.log : null');
        if (log) page.log = log;
    };
    return page;
}

// Waits until PAGE's log, from where it was last marked, has a line matching
// RE; throws with the step's name when STEP_MS pass first.
async function expect(page, re, step) {
    const deadline = Math.min(Date.now() + STEP_MS, END);
    for (;;) {
        await page.refresh();
        if (page.log.slice(page.from).some((l) => re.test(l))) return;
        if (Date.now() > deadline) throw new Error(`step "${step}": ${page.name} never reported ${re}`);
        await sleep(150);
    }
}

const mark = (...pages) => pages.forEach((p) => { p.from = p.log.length; });

async function call(alice, bob, hanger, n) {
    await Promise.all([alice.refresh(), bob.refresh()]);
    mark(alice, bob);
    step(`call ${n}: alice calls bob, ${hanger.name} hangs up`);
    await alice.eval("phone.call('bob')");
    await expect(bob, /^incoming from alice$/, `call ${n}: bob is rung`);
    await bob.eval('phone.answer()');
    await expect(alice, /^confirmed$/, `call ${n}: confirmed at alice`);
    await expect(bob, /^confirmed$/, `call ${n}: confirmed at bob`);
    // Let media start before the BYE (both tabs log "ice connected").
    await sleep(1000);
    await Promise.all([alice.refresh(), bob.refresh()]);
    const other = hanger === alice ? bob : alice;
    await hanger.eval('phone.hangup()');
    await expect(hanger, /^< 200 BYE$/, `call ${n}: the BYE is answered`);
    await expect(other, /^ended remote Terminated$/, `call ${n}: ${other.name} saw the call end`);
}

async function scenario(browser, port) {
    const url = (host, user) => `http://${host}:${port}/phone.html?` + new URLSearchParams({
        ws: env('SK_WS_URL'), domain: env('SK_DOMAIN'), user, password: `${user}pw`,
    });
    const alice = await open(browser, 'alice', url('127.0.0.1', 'alice'));
    const bob = await open(browser, 'bob', url('127.0.0.1', 'bob'));
    // The same page from another origin (localhost is not 127.0.0.1).
    const carol = await open(browser, 'carol', url('localhost', 'carol'));
    const pages = [alice, bob, carol];
    try {
        step('register alice and bob; carol, from another origin, is refused');
        await expect(alice, /^registered$/, 'alice registers');
        await expect(bob, /^registered$/, 'bob registers');
        await expect(carol, /^disconnected$/, 'carol is refused');
        await carol.eval('phone.stop()');
        // Quiet connections get pings (the test runs the server with
        // ws.ping_interval 2): the browser must answer them to stay.
        step('quiet for 5 s');
        await sleep(5000);
        await call(alice, bob, alice, 1);
        await call(alice, bob, bob, 2);
        step('alice sends bob a MESSAGE');
        mark(alice, bob);
        await alice.eval("phone.message('bob', 'hello bob, from a browser')");
        await expect(bob, /^message from alice: /, 'bob receives the MESSAGE');
        await expect(alice, /^message sent /, 'alice hears back');
        step('both unregister');
        mark(alice, bob);
        await alice.eval('phone.stop()');
        await bob.eval('phone.stop()');
        await expect(alice, /^unregistered$/, 'alice unregisters');
        await expect(bob, /^unregistered$/, 'bob unregisters');
        step('done');
        return 0;
    } catch (e) {
        console.log(`FAIL: ${e.message}`);
        return 1;
    } finally {
        for (const p of pages) {
            await p.refresh().catch(() => {});
            for (const line of p.log) console.log(`${p.name}: ${line}`);
        }
    }
}

async function main() {
    let server;
    try {
        server = await serve();
    } catch (e) {
        console.log(`FAIL: ${e.message}`);
        process.exit(1);
    }
    const browser = launch();
    let rc = 1;
    let closing = false;
    try {
        rc = await Promise.race([
            scenario(browser, server.address().port),
            browser.exited.then((code) => {
                if (!closing) console.log(`FAIL: the browser exited (${code}); see its log`);
                return 1;
            }),
        ]);
        closing = true;
        await Promise.race([browser.send('Browser.close').catch(() => {}), sleep(3000)]);
        await Promise.race([browser.exited, sleep(5000)]);
    } catch (e) {
        console.log(`FAIL: ${e.message}`);
    } finally {
        browser.kill();
        server.close();
    }
    process.exit(rc);
}

main();
