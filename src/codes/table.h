/*
 * Private to the codes layer: the catalog is split over several files, one
 * slice of the code space each, so no file grows past a readable size. Each
 * slice is sorted by code and the slices do not overlap.
 */
#ifndef SK_CODES_TABLE_H
#define SK_CODES_TABLE_H

#include <sipkit/codes.h>

/* Shorthand for the origin bits in the tables. */
#define UAS       SK_CODE_BY_UAS
#define PROXY     SK_CODE_BY_PROXY
#define REGISTRAR SK_CODE_BY_REGISTRAR
#define LOCAL     SK_CODE_BY_LOCAL

extern const struct sk_code_info sk__codes_1xx_3xx[];
extern const size_t sk__codes_1xx_3xx_count;
extern const struct sk_code_info sk__codes_4xx_request[];
extern const size_t sk__codes_4xx_request_count;
extern const struct sk_code_info sk__codes_4xx_ext[];
extern const size_t sk__codes_4xx_ext_count;
extern const struct sk_code_info sk__codes_4xx_call[];
extern const size_t sk__codes_4xx_call_count;
extern const struct sk_code_info sk__codes_5xx_6xx[];
extern const size_t sk__codes_5xx_6xx_count;

#endif
