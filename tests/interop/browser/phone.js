// The test phone (see phone.html). Query string: ws (the wss:// URL of
// sipkit's listener), user, password, domain. Everything the phone sees is
// appended to window.phone.log as one short line, which drive.js prints:
//   "> REGISTER", "< 401 REGISTER"  a SIP message sent or received on the
//                                     WebSocket (start line and CSeq method)
//   "registered", "incoming from alice", "confirmed", "ended local BYE"...
//                                     JsSIP's events
// and window.phone has the actions drive.js calls: call, answer, hangup,
// message, stop.
'use strict';
(function () {
    const q = new URLSearchParams(location.search);
    const log = [];
    const note = (line) => log.push(line);
    window.addEventListener('error', (e) => note(`error ${e.message}`));
    window.addEventListener('unhandledrejection', (e) => note(`error ${e.reason}`));

    // "INVITE" for a request, "200 INVITE" for a response.
    function summary(text) {
        const first = text.slice(0, text.indexOf('\r\n'));
        const cseq = /\r\n(?:CSeq|cseq):\s*\d+\s+(\S+)/i.exec(text);
        const method = cseq ? cseq[1] : '?';
        const status = /^SIP\/2\.0 (\d{3})/.exec(first);
        return status ? `${status[1]} ${method}` : first.split(' ')[0];
    }

    // The WebSocket JsSIP uses, noting each message that goes over it.
    class TapSocket extends JsSIP.WebSocketInterface {
        send(message) {
            note(`> ${summary(String(message))}`);
            return super.send(message);
        }
        _onMessage(event) {
            const data = event.data;
            const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
            note(`< ${summary(text)}`);
            super._onMessage(event);
        }
    }

    const domain = q.get('domain');
    const ua = new JsSIP.UA({
        sockets: [new TapSocket(q.get('ws'))],
        uri: `sip:${q.get('user')}@${domain}`,
        password: q.get('password'),
        register: true,
        register_expires: 600,
        session_timers: false,
        user_agent: 'sipkit-test JsSIP',
    });
    const media = { audio: true, video: true };
    const pcConfig = { iceServers: [] };
    let session = null;

    function watch(s) {
        session = s;
        s.on('progress', (e) => note(`progress ${e.response ? e.response.status_code : ''}`.trim()));
        s.on('accepted', () => note('accepted'));
        s.on('confirmed', () => note('confirmed'));
        s.on('ended', (e) => note(`ended ${e.originator} ${e.cause}`));
        s.on('failed', (e) => note(`failed ${e.originator} ${e.cause}`));
        // The caller's peer connection exists once ua.call returns; the
        // callee's is made when it answers.
        if (s.connection) {
            hook(s.connection);
        } else {
            s.on('peerconnection', (e) => hook(e.peerconnection));
        }
    }

    function hook(pc) {
        pc.addEventListener('iceconnectionstatechange', () => {
            if (pc.iceConnectionState === 'connected') note('ice connected');
        });
        pc.addEventListener('track', (t) => note(`remote track ${t.track.kind}`));
    }

    ua.on('connected', () => note('connected'));
    ua.on('disconnected', () => note('disconnected'));
    ua.on('registered', () => note('registered'));
    ua.on('unregistered', () => note('unregistered'));
    ua.on('registrationFailed', (e) => note(`registration failed ${e.cause}`));
    ua.on('newRTCSession', (e) => {
        if (e.originator !== 'remote') return;
        note(`incoming from ${e.session.remote_identity.uri.user}`);
        watch(e.session);
    });
    ua.on('newMessage', (e) => {
        if (e.originator !== 'remote') return;
        note(`message from ${e.request.from.uri.user}: ${e.request.body}`);
    });

    window.phone = {
        log,
        call(user) {
            watch(ua.call(`sip:${user}@${domain}`, { mediaConstraints: media, pcConfig }));
        },
        answer() {
            session.answer({ mediaConstraints: media, pcConfig });
        },
        hangup() {
            session.terminate();
        },
        message(user, body) {
            ua.sendMessage(`sip:${user}@${domain}`, body, {
                eventHandlers: {
                    succeeded: (e) => note(`message sent ${e.response.status_code}`),
                    failed: (e) => note(`message failed ${e.cause}`),
                },
            });
        },
        stop() {
            ua.stop();
        },
    };
    ua.start();
    note('started');
})();
