/* Error codes: sipkit's own negative codes and -errno values. */
#include <sipkit/base.h>

#include <string.h>

const char *sk_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case SK_EPARSE:
        return "malformed input";
    case SK_ETOOBIG:
        return "input exceeds a configured limit";
    case SK_EAGAIN:
        return "more input needed";
    case SK_EAUTH:
        return "authentication failed";
    case SK_ENOMEM:
        return "out of memory";
    case SK_ENOTFOUND:
        return "not found";
    case SK_EEXIST:
        return "already exists";
    case SK_EINVAL:
        return "invalid argument";
    case SK_EVERSION:
        return "unsupported SIP version";
    case SK_ESCHEME:
        return "unsupported URI scheme";
    case SK_EIO:
        return "storage or system failure";
    case SK_ESTATE:
        return "not valid in the current state";
    case SK_ETIMEDOUT:
        return "timed out";
    case SK_EUNAVAIL:
        return "database unreachable";
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}
