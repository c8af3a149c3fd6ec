/*
 * infer.c: safe column type inference (see infer.h for the rules).
 */
#include "infer.h"

#include <math.h>
#include <string.h>

#include "pv.h"
#include "util.h"
#include "value.h"

void pv_infer_init(pv_infer *st)
{
    st->nvalues = 0;
    st->all_int = 1;
    st->all_real = 1;
    st->finite = 0;
    st->kinds = 0;
    st->ints_fit_real = 1;
}

int pv_infer_int_fits_real(int64_t i)
{
    double d = (double)i;

    /* 2^63 is where (double)INT64_MAX rounds to: it is out of range, and
     * converting it back would be undefined. */
    if (d >= 9223372036854775808.0)
        return 0;
    return (int64_t)d == i;
}

int pv_infer_real_parse(const char *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0;

    if (pv_real_parse(s, n, out))
        return 1;
    if (n > 0 && (s[0] == '+' || s[0] == '-'))
        neg = s[i++] == '-';
    if (!pv_ident_eq(s + i, n - i, "inf", 3) && !pv_ident_eq(s + i, n - i, "infinity", 8))
        return 0;
    *out = neg ? -INFINITY : INFINITY;
    return 1;
}

/* "Inf" or "-Inf": an infinity as pv_real_format writes it. */
static int inf_exact(const char *s, size_t n)
{
    char canon[32];
    double f;
    int len;

    if (n > 4 || !pv_infer_real_parse(s, n, &f) || !isinf(f))
        return 0;
    len = pv_real_format(f, canon);
    return len >= 0 && (size_t)len == n && memcmp(canon, s, n) == 0;
}

int pv_infer_real_exact(const char *s, size_t n, double *out)
{
    char canon[32];
    double f;
    int len;

    /* pv_real_format never writes more than 31 bytes: a longer text cannot
     * be canonical, and we skip parsing it. */
    if (n == 0 || n > 31 || !pv_real_parse(s, n, &f))
        return 0;
    len = pv_real_format(f, canon);
    if (len < 0 || (size_t)len != n || memcmp(canon, s, n) != 0)
        return 0;
    if (out)
        *out = f;
    return 1;
}

void pv_infer_add(pv_infer *st, const char *s, size_t n)
{
    int64_t i;
    int is_int;

    st->nvalues++;
    if (!st->all_int && !st->all_real)
        return;  /* TEXT already: nothing can change that */
    is_int = pv_int_parse_canonical(s, n, &i);
    if (!is_int)
        st->all_int = 0;
    if (st->all_real) {
        if (is_int)
            st->all_real = pv_infer_int_fits_real(i);
        else if (pv_infer_real_exact(s, n, NULL))
            st->finite = 1;
        else
            st->all_real = inf_exact(s, n);
    }
    if (is_int)
        st->finite = 1;
}

void pv_infer_add_value(pv_infer *st, const pv_value *v)
{
    if (v->type == PV_NULL)
        return;
    st->nvalues++;
    st->kinds |= 1u << v->type;
    if (v->type == PV_INTEGER && st->ints_fit_real)
        st->ints_fit_real = pv_infer_int_fits_real(v->u.i);
}

int pv_infer_type(const pv_infer *st)
{
    const unsigned num = 1u << PV_INTEGER | 1u << PV_REAL;

    if (st->nvalues == 0)
        return PV_TEXT;
    if (st->kinds) {
        if (st->kinds & (1u << PV_BLOB))
            return st->kinds == 1u << PV_BLOB ? PV_BLOB : -1;
        if (st->kinds == 1u << PV_INTEGER)
            return PV_INTEGER;
        if (st->kinds == 1u << PV_BOOLEAN)
            return PV_BOOLEAN;
        if ((st->kinds & ~num) == 0)
            return st->ints_fit_real ? PV_REAL : PV_TEXT;
        return PV_TEXT;
    }
    if (st->all_int)
        return PV_INTEGER;
    if (st->all_real && st->finite)
        return PV_REAL;
    return PV_TEXT;
}
