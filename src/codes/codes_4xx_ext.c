/*
 * Catalog slice: client-failure codes 417..470, mostly about extensions and
 * their headers: option tags (RFC 3261 §21.4.15-§21.4.17), session timers
 * (RFC 4028), resource priority (RFC 4412), location (RFC 6442), emergency
 * alerts (RFC 8876), identity (RFC 8224, RFC 3892, RFC 5079), outbound
 * (RFC 5626), forking limits (RFC 5393), INFO packages (RFC 6086) and
 * consent (RFC 5360). Texts are our own.
 *
 * Memory: static read-only data.
 */
#include "codes/table.h"

const struct sk_code_info sk__codes_4xx_ext[] = {
    {
        .code = 417,
        .phrase = "Unknown Resource-Priority",
        .rfc = "RFC4412",
        .section = "RFC 4412",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Resource-Priority, Accept-Resource-Priority, Require",
        .summary = "the Resource-Priority value is not understood",
        .meaning = "The request required resource-priority handling (Require: "
                   "resource-priority) but its Resource-Priority header uses a namespace or "
                   "priority value the server does not know.",
        .when = "In government and emergency-preference networks (GETS, military precedence) "
                "when a priority call crosses into a network that uses other namespaces.",
        .fix = "Use a namespace and value from the response's Accept-Resource-Priority header, "
               "or send the request without Require: resource-priority.",
    },
    {
        .code = 420,
        .phrase = "Bad Extension",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.15",
        .sent_by = UAS | PROXY | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Require, Proxy-Require, Unsupported",
        .summary = "a required extension is not supported; see Unsupported",
        .meaning = "The request listed an option tag in Require or Proxy-Require that the "
                   "server does not support. The response names the offending tags in "
                   "Unsupported.",
        .when = "Clients that insist on 100rel, timer, replaces, sec-agree, outbound or a "
                "vendor tag when talking to a server that lacks it.",
        .fix = "Move the tags listed in Unsupported from Require/Proxy-Require to Supported "
               "(so they are offered, not demanded) and resend, or drop the feature.",
    },
    {
        .code = 421,
        .phrase = "Extension Required",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.16",
        .sent_by = UAS | REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Require, Supported",
        .summary = "the server needs an extension the request did not offer",
        .meaning = "The server will only process the request with an extension that the "
                   "client did not list in Supported; the response's Require header names it.",
        .when = "A UAS that insists on reliable provisional responses (100rel) or session "
                "timers (timer), or a registrar requiring outbound or gruu.",
        .fix = "Enable the extension named in Require on the client and list it in Supported, "
               "then resend. If the client cannot do it, the servers cannot talk.",
    },
    {
        .code = 422,
        .phrase = "Session Interval Too Small",
        .rfc = "RFC4028",
        .section = "RFC 4028",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Session-Expires, Min-SE",
        .summary = "Session-Expires is below the minimum; see Min-SE",
        .meaning = "The session refresh interval in Session-Expires is shorter than this "
                   "element allows. The response carries Min-SE with the smallest acceptable "
                   "value.",
        .when = "INVITE or UPDATE with session timers (RFC 4028) where a proxy or the callee "
                "has a higher minimum than the caller's Session-Expires.",
        .fix = "Resend with Session-Expires (and Min-SE) at least the Min-SE value from the "
               "response; clients do this automatically.",
        .notes = {{"INVITE", "Resend the INVITE with the larger interval; a re-INVITE gets "
                             "the same treatment."}},
    },
    {
        .code = 423,
        .phrase = "Interval Too Brief",
        .rfc = "RFC3261",
        .section = "RFC 3261 §21.4.17, §10.2.8",
        .related = "RFC 6665 (SUBSCRIBE), RFC 3903 (PUBLISH)",
        .sent_by = REGISTRAR | UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Expires, Min-Expires",
        .summary = "expiry too short: resend with at least Min-Expires",
        .meaning = "The expiration time asked for is shorter than the server accepts. The "
                   "response carries Min-Expires with the smallest value it will take.",
        .when = "REGISTER with a short Expires (clients behind NAT sometimes ask for 30-60 s "
                "to keep the binding open), or SUBSCRIBE/PUBLISH with a short Expires.",
        .fix = "Resend with Expires (or the Contact's expires parameter) at least Min-Expires. "
               "Keep NAT bindings open with keep-alives (CRLF, OPTIONS) instead of very short "
               "registrations.",
        .notes = {{"REGISTER", "The registrar's minimum binding time (RFC 3261 §10.2.8); "
                               "resend with Expires >= Min-Expires."},
                  {"SUBSCRIBE", "The notifier's minimum subscription time (RFC 6665); resend "
                                "the SUBSCRIBE with a longer Expires."},
                  {"PUBLISH", "The minimum publication lifetime (RFC 3903)."}},
    },
    {
        .code = 424,
        .phrase = "Bad Location Information",
        .rfc = "RFC6442",
        .section = "RFC 6442",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Geolocation, Geolocation-Error, Geolocation-Routing",
        .summary = "the conveyed location is malformed or unusable",
        .meaning = "The location information carried with the request (Geolocation header, "
                   "by value in a PIDF-LO body or by reference) is malformed or not "
                   "satisfactory for the recipient's purpose. Geolocation-Error gives details.",
        .when = "Emergency calls (and location-based routing) where the caller's PIDF-LO is "
                "broken, too imprecise, or its reference cannot be fetched.",
        .fix = "Check the Geolocation-Error code, fix the PIDF-LO body or reference, and "
               "resend with valid location.",
    },
    {
        .code = 425,
        .phrase = "Bad Alert Message",
        .rfc = "RFC8876",
        .section = "RFC 8876",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "AlertMsg-Error",
        .summary = "the emergency alert (CAP) body is malformed or rejected",
        .meaning = "A non-interactive emergency call carried a Common Alerting Protocol (CAP) "
                   "message the recipient could not accept: malformed, incomplete or failing "
                   "validation. AlertMsg-Error gives the reason.",
        .when = "With automated emergency alerts (sensors, vehicles) sent as MESSAGE or INVITE "
                "to a PSAP or an alert aggregator.",
        .fix = "Validate the CAP body against the schema and the AlertMsg-Error reason, fix "
               "it and resend.",
    },
    {
        .code = 428,
        .phrase = "Use Identity Header",
        .rfc = "RFC8224",
        .section = "RFC 8224",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Identity",
        .summary = "the server requires a signed Identity header (STIR)",
        .meaning = "The recipient's policy requires a cryptographically signed Identity header "
                   "(STIR/SHAKEN) and the request has none.",
        .when = "Calls into carriers or services that only accept signed caller identity, "
                "typically when the originating provider did not sign the call.",
        .fix = "Have the originating service provider sign the call (an authentication service "
               "adding Identity); an end device cannot usually do this itself.",
    },
    {
        .code = 429,
        .phrase = "Provide Referrer Identity",
        .rfc = "RFC3892",
        .section = "RFC 3892",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Referred-By",
        .summary = "the refer target wants a signed Referred-By token",
        .meaning = "In a transfer (REFER), the refer target will only accept the triggered "
                   "request if it carries a valid Referred-By security token (a signed body "
                   "from the referrer).",
        .when = "During call transfers to targets that verify who asked for the transfer. The "
                "referee usually reports the 429 back to the referrer in a NOTIFY.",
        .fix = "The referrer must send a new REFER whose Referred-By carries a signed token; "
               "otherwise the transfer cannot complete at this target.",
    },
    {
        .code = 430,
        .phrase = "Flow Failed",
        .rfc = "RFC5626",
        .section = "RFC 5626",
        .sent_by = PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .summary = "the outbound flow to the user's device has failed",
        .meaning = "An edge proxy tells the proxy that holds the registration that the "
                   "particular flow (connection) it chose for a SIP Outbound binding no longer "
                   "exists. Other flows to the same device may still work.",
        .when = "Between proxies in SIP Outbound (RFC 5626) deployments, when a phone's TCP or "
                "TLS connection dropped. End devices should normally not see it.",
        .fix = "The authoritative proxy should try another flow or binding for the same "
               "instance and drop the failed one; the device re-registers to create a new "
               "flow.",
    },
    {
        .code = 433,
        .phrase = "Anonymity Disallowed",
        .rfc = "RFC5079",
        .section = "RFC 5079",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Privacy, From, P-Asserted-Identity",
        .summary = "anonymous requests are refused by this callee",
        .meaning = "The request was anonymous (hidden caller identity) and the callee's policy "
                   "rejects anonymous requests.",
        .when = "Calling with caller ID withheld (Privacy: id, anonymous From) to users or "
                "services that block anonymous calls.",
        .fix = "Call again with your identity shown (remove Privacy and the anonymous From), "
               "or accept that the callee does not take anonymous calls.",
        .notes = {{"INVITE", "Typical 'anonymous call rejection' service."}},
    },
    {
        .code = 436,
        .phrase = "Bad Identity Info",
        .rfc = "RFC8224",
        .section = "RFC 8224",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Identity",
        .summary = "the Identity header's certificate reference cannot be used",
        .meaning = "The Identity header's info parameter (the URI of the signer's certificate) "
                   "could not be dereferenced, or uses an unsupported scheme.",
        .when = "STIR/SHAKEN verification failing because the certificate URL is unreachable, "
                "slow, or not https.",
        .fix = "The signing provider must publish the certificate at a reachable URI and put "
               "it in info=; the caller cannot fix it alone.",
    },
    {
        .code = 437,
        .phrase = "Unsupported Credential",
        .rfc = "RFC8224",
        .section = "RFC 8224",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Identity",
        .summary = "the signer's certificate is not trusted or supported",
        .meaning = "The verifier fetched the credential referenced by the Identity header but "
                   "does not support or trust it (unknown certificate authority, wrong type).",
        .when = "STIR/SHAKEN across providers whose trust anchors do not include the signer's "
                "certificate authority.",
        .fix = "The signing provider needs a certificate from an authority the verifier "
               "trusts.",
    },
    {
        .code = 438,
        .phrase = "Invalid Identity Header",
        .rfc = "RFC8224",
        .section = "RFC 8224",
        .sent_by = UAS | PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Identity, Date",
        .summary = "the Identity signature does not verify",
        .meaning = "The verifier could not validate the signature in the Identity header: the "
                   "signed fields (from, to, date, ...) do not match the request or the "
                   "signature is wrong.",
        .when = "Calls whose From/To numbers or Date were changed after signing (by a B2BUA or "
                "number normalization), or with a broken signing service.",
        .fix = "Make sure nothing rewrites the calling or called numbers or Date after the "
               "authentication service signed the request, and check the signer's keys.",
    },
    {
        .code = 439,
        .phrase = "First Hop Lacks Outbound Support",
        .rfc = "RFC5626",
        .section = "RFC 5626",
        .sent_by = REGISTRAR,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Path, Supported: outbound",
        .summary = "registrar does outbound, but the first proxy does not",
        .meaning = "The device registered with SIP Outbound (reg-id and +sip.instance) and the "
                   "registrar supports it, but the edge proxy in front of the registrar does "
                   "not, so flows cannot be maintained.",
        .when = "REGISTER through an edge proxy that does not add an 'ob' Path URI, toward a "
                "registrar that supports RFC 5626.",
        .fix = "Register without reg-id (no outbound), or enable Outbound support on the edge "
               "proxy.",
        .notes = {{"REGISTER", "The only method it applies to."}},
    },
    {
        .code = 440,
        .phrase = "Max-Breadth Exceeded",
        .rfc = "RFC5393",
        .section = "RFC 5393",
        .sent_by = PROXY,
        .retry = SK_CODE_RETRY_NEVER,
        .headers = "Max-Breadth",
        .summary = "forking would exceed the request's Max-Breadth",
        .meaning = "A proxy could not fork the request because its Max-Breadth budget (the "
                   "number of parallel branches allowed) was used up.",
        .when = "Large parallel forking, or forking loops between proxies that multiply "
                "branches (the amplification RFC 5393 guards against).",
        .fix = "Look for forking loops and overly wide parallel ringing; reduce the number of "
               "simultaneous targets or fork sequentially.",
    },
    {
        .code = 469,
        .phrase = "Bad Info Package",
        .rfc = "RFC6086",
        .section = "RFC 6086",
        .sent_by = UAS,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Info-Package, Recv-Info",
        .summary = "INFO used an Info-Package the peer did not agree to receive",
        .meaning = "An INFO request named an Info Package that the receiver has not said it "
                   "will accept in this dialog. The response carries Recv-Info listing the "
                   "packages it does accept.",
        .when = "Sending DTMF or other application data by INFO when the other side did not "
                "list that package in Recv-Info during call setup.",
        .fix = "Send only packages listed in the peer's Recv-Info, or negotiate the package "
               "first (re-INVITE/UPDATE with Recv-Info). For DTMF, RFC 4733 events in RTP are "
               "usually the better choice.",
        .notes = {{"INFO", "The only method it applies to."}},
    },
    {
        .code = 470,
        .phrase = "Consent Needed",
        .rfc = "RFC5360",
        .section = "RFC 5360",
        .sent_by = PROXY,
        .retry = SK_CODE_RETRY_FIX,
        .headers = "Permission-Missing",
        .summary = "a relay needs the target's consent before forwarding",
        .meaning = "A relay (a list server or translation service) will not send requests to "
                   "the target until the target has consented. Permission-Missing lists the "
                   "targets lacking consent.",
        .when = "Sending through URI-list services (conference factories, message exploders) "
                "that implement the consent framework against spam.",
        .fix = "Obtain permission from the listed targets (the consent framework uses a "
               "permission document and a REFER-based request), then retry.",
    },
};

const size_t sk__codes_4xx_ext_count = sizeof(sk__codes_4xx_ext) / sizeof(sk__codes_4xx_ext[0]);
