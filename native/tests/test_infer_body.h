/*
 * The typed tests of test_infer.c, included once per element type with RT, RS and RD (the
 * tu_dtype). No include guard.
 */
#define B_CAT_(a, b) a##b
#define B_CAT(a, b) B_CAT_(a, b)
#define TF(name) B_CAT(B_CAT(name, _), RS)
#define TP(name) B_CAT(B_CAT(panmax_, name), B_CAT(_, RS))
#define B_INF ((RT)INFINITY)

/* Row families: 0 gauss, 1 peaked, 2 flat, 3 small integers (ties), 4 all equal, 5 with -inf,
 * 6 with +inf, 7 with NaN, 8 large offset, 9 huge. */
#define FAMILIES 10
static void TF(fill_row)(RT *x, int64_t n, int fam)
{
    for (int64_t j = 0; j < n; j++) {
        switch (fam) {
        case 1: x[j] = (RT)(4 * gauss()); break;
        case 2: x[j] = (RT)(0.2 * gauss()); break;
        case 3: x[j] = (RT)(tu_below(7) - 3); break;
        case 4: x[j] = (RT)1.25; break;
        case 8: x[j] = (RT)(80 + gauss()); break;
        case 9: x[j] = (RT)(RD.f64 ? 1e300 * tu_range(-1, 1) : 1e30 * tu_range(-1, 1)); break;
        default: x[j] = (RT)gauss(); break;
        }
    }
    if (fam == 5) {
        for (int64_t j = 0; j < n; j++) {
            if (tu_below(3) == 0) {
                x[j] = -B_INF;
            }
        }
    } else if (fam == 6) {
        x[tu_below(n)] = B_INF;
        x[tu_below(n)] = B_INF;
    } else if (fam == 7) {
        x[tu_below(n)] = (RT)NAN;
    }
}

/* ---- argmax and top-k --------------------------------------------------------------------------- */

static void TF(test_topk)(int32_t isa)
{
    static const int64_t sizes[] = {1, 2, 3, 7, 16, 17, 64, 255, 1000, 1001, 4097, 32000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int64_t n = sizes[si];
        for (int fam = 0; fam < FAMILIES; fam++) {
            const int64_t rows = 3, stride = n + 5;
            RT *x = talloc(&RD, rows * stride);
            for (int64_t r = 0; r < rows; r++) {
                TF(fill_row)(x + r * stride, n, fam);
            }
            int64_t *am = galloc((size_t)rows * 8);
            CHECK_EQ_INT(TP(argmax)(x, stride, rows, n, am, isa), PANMAX_OK);
            static const int64_t ks[] = {1, 2, 5, 40, 1000, 1 << 30};
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                const int64_t k = ks[ki] < n ? ks[ki] : n;
                int64_t *idx = galloc((size_t)(rows * k) * 8);
                RT *val = talloc(&RD, rows * k);
                for (int kind = 0; kind < 3; kind++) {
                    CHECK_EQ_INT(TP(topk)(x, stride, rows, n, k, idx, k, val, k, kind, isa), PANMAX_OK);
                    for (int64_t r = 0; r < rows; r++) {
                        const RT *xr = x + r * stride;
                        int nan = 0;
                        long double mx = -INFINITY, sum = 0;
                        int64_t kinf = 0;
                        for (int64_t j = 0; j < n; j++) {
                            nan |= isnan(xr[j]);
                            mx = xr[j] > mx ? xr[j] : mx;
                            kinf += xr[j] == B_INF;
                        }
                        if (nan) {
                            CHECK_EQ_INT(am[r], PANMAX_NO_TOKEN);
                            for (int64_t i = 0; i < k; i++) {
                                CHECK(idx[r * k + i] == PANMAX_NO_TOKEN && isnan(val[r * k + i]),
                                      "NaN row: %lld %g", (long long)idx[r * k + i], (double)val[r * k + i]);
                            }
                            continue;
                        }
                        for (int64_t j = 0; j < n && isfinite(mx); j++) {
                            sum += expl((long double)xr[j] - mx);
                        }
                        int64_t *order = TF(rank_all)(xr, n);
                        CHECK_EQ_INT(am[r], order[0]);
                        for (int64_t i = 0; i < k; i++) {
                            const int64_t got = idx[r * k + i], want = order[i];
                            CHECK(got == want, "n %lld fam %d k %lld kind %d rank %lld: index %lld, want %lld",
                                  (long long)n, fam, (long long)k, kind, (long long)i, (long long)got,
                                  (long long)want);
                            const long double v = val[r * k + i], z = xr[want];
                            long double ref;
                            if (kind == PANMAX_TOPK_LOGITS) {
                                ref = z;
                            } else if (mx == INFINITY || mx == -INFINITY) {
                                int on = mx == INFINITY && z == INFINITY;
                                ref = kind == PANMAX_TOPK_PROBABILITIES ? (on ? 1.0L / kinf : 0)
                                                                        : (on ? -logl((long double)kinf) : -INFINITY);
                            } else {
                                long double lp = z - mx - logl(sum);
                                ref = kind == PANMAX_TOPK_PROBABILITIES ? expl(lp) : lp;
                            }
                            /* exp a few ulps off per term, summed in double: sqrt(n) roundings */
                            const long double acc = 4 * sqrtl((long double)n) * DBL_EPSILON;
                            long double tol = kind == PANMAX_TOPK_LOGITS ? 0
                                            : kind == PANMAX_TOPK_PROBABILITIES
                                                ? (8 * RD.eps * (1 + (isfinite(mx) ? fabsl(z - mx) : 0)) + acc) * fabsl(ref) + RD.tmin
                                                : 8 * RD.eps * (1 + fabsl(ref) + (isfinite(mx) ? fabsl(z - mx) : 0)) + acc;
                            CHECK(tu_same(v, ref) || fabsl(v - ref) <= tol,
                                  "n %lld fam %d kind %d rank %lld: %.9Lg vs %.9Lg", (long long)n, fam, kind,
                                  (long long)i, v, ref);
                        }
                        free(order);
                    }
                }
                gfree(idx);
                gfree(val);
            }
            gfree(am);
            gfree(x);
        }
    }
    /* errors: nothing written */
    _Alignas(16) RT x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t *idx = galloc(4 * 8);
    memset(idx, TU_POISON, 32);
    CHECK_EQ_INT(TP(topk)(x, 8, 1, 8, 0, idx, 4, NULL, 0, 0, isa), PANMAX_ERR_SIZE);
    CHECK_EQ_INT(TP(topk)(x, 8, 1, 8, 9, idx, 9, NULL, 0, 0, isa), PANMAX_ERR_ARGUMENT); /* k > cols */
    CHECK_EQ_INT(TP(topk)(x, 3, 2, 4, 2, idx, 2, NULL, 0, 0, isa), PANMAX_ERR_STRIDE);
    CHECK_EQ_INT(TP(topk)(x, 8, 1, 8, 4, idx, 3, NULL, 0, 0, isa), PANMAX_ERR_STRIDE);
    CHECK_EQ_INT(TP(topk)(x, 8, 1, 8, 4, idx, 4, NULL, 0, 3, isa), PANMAX_ERR_ARGUMENT);
    CHECK_EQ_INT(TP(topk)(NULL, 8, 1, 8, 4, idx, 4, NULL, 0, 0, isa), PANMAX_ERR_NULL);
    CHECK_EQ_INT(TP(topk)(x, 8, 1, 8, 4, idx, 4, NULL, 0, 0, 7), PANMAX_ERR_ISA);
    CHECK_EQ_INT(TP(topk)(x, 8, 1, 8, 4, (int64_t *)(void *)x, 4, NULL, 0, 0, isa), PANMAX_ERR_OVERLAP);
    CHECK_EQ_INT(TP(argmax)(x, 8, 1, 0, idx, isa), PANMAX_ERR_SIZE);
    CHECK(tu_is_poison(idx, 32), "a rejected call wrote");
    gfree(idx);
}

/* ---- sampling -------------------------------------------------------------------------------------- */

static panmax_sample_config TF(random_config)(int64_t n)
{
    static const double temps[] = {0, 0.05, 0.7, 1, 1.7};
    static const double topps[] = {1, 1, 0.95, 0.6, 0.1, 0.999999};
    static const double minps[] = {0, 0, 0.05, 0.6, 1};
    const int64_t topks[] = {0, 0, 1, 3, 40, n, n + 3};
    panmax_sample_config c = {0};
    c.temperature = temps[tu_below(5)];
    c.top_p = topps[tu_below(6)];
    c.min_p = minps[tu_below(5)];
    c.top_k = topks[tu_below(7)];
    c.repetition_penalty = tu_below(2) ? 1 : tu_range(0.5, 2);
    c.presence_penalty = tu_below(2) ? 0 : tu_range(0, 1);
    c.frequency_penalty = tu_below(2) ? 0 : tu_range(0, 0.5);
    c.top_logprobs = tu_below(3) == 0 ? 1 + tu_below(n < 5 ? n : 5) : 0;
    c.seed = tu_next();
    c.step = tu_next();
    return c;
}

/* Every (row, config, seed, step) against the reference, token for token; scores against q / M. */
static void TF(test_sample_exact)(int32_t isa, long *draws)
{
    static const int64_t sizes[] = {1, 2, 3, 5, 16, 17, 100, 1000, 1001, 5000, 32000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int64_t n = sizes[si];
        const int configs = n >= 5000 ? 6 : 30;
        for (int fam = 0; fam < FAMILIES; fam++) {
            RT *x = talloc(&RD, n);
            TF(fill_row)(x, n, fam);
            for (int ci = 0; ci < configs; ci++) {
                panmax_sample_config c = TF(random_config)(n);
                const int64_t hlen = tu_below(3) ? 1 + tu_below(12) : 0;
                int64_t *h = galloc((size_t)(hlen ? hlen : 1) * 8);
                for (int64_t i = 0; i < hlen; i++) {
                    h[i] = tu_below(4) == 0 ? -1 : tu_below(n);
                }
                RT *b = NULL;
                uint8_t *mk = NULL;
                if (tu_below(3) == 0) {
                    b = talloc(&RD, n);
                    for (int64_t j = 0; j < n; j++) {
                        b[j] = tu_below(5) == 0 ? -B_INF : (RT)tu_range(-1, 1);
                    }
                }
                if (tu_below(3) == 0) {
                    mk = galloc((size_t)n);
                    for (int64_t j = 0; j < n; j++) {
                        mk[j] = (uint8_t)(tu_below(4) != 0);
                    }
                    mk[tu_below(n)] = 1;
                }
                const int64_t R = 16;
                int64_t *seeds = galloc(R * 8), *steps = galloc(R * 8), *tok = galloc(R * 8);
                RT *sc = talloc(&RD, R * PANMAX_SCORE_COUNT);
                const int64_t tn = c.top_logprobs;
                int64_t *ti = galloc((size_t)(R * (tn ? tn : 1)) * 8);
                RT *tl = talloc(&RD, R * (tn ? tn : 1));
                for (int64_t r = 0; r < R; r++) {
                    seeds[r] = (int64_t)tu_next();
                    steps[r] = (int64_t)(tu_below(2) ? (uint64_t)r : tu_next());
                }
                /* stride 0 is not allowed for logits: R views of the same row through a copy */
                RT *xs = talloc(&RD, R * n);
                for (int64_t r = 0; r < R; r++) {
                    memcpy(xs + r * n, x, (size_t)n * sizeof(RT));
                }
                int32_t st = TP(sample)(xs, n, R, n, &c, hlen ? h : NULL, 0, hlen, b, 0, mk, 0, seeds,
                                        steps, NULL, tok, sc, PANMAX_SCORE_COUNT, tn ? ti : NULL, tn,
                                        tn ? tl : NULL, tn, isa);
                CHECK_EQ_INT(st, PANMAX_OK);
                TF(ref_result) ref = TF(ref_sample)(x, n, &c, hlen ? h : NULL, hlen, b, mk, 0);
                long double sum = 0;
                for (int64_t j = 0; ref.token >= 0 && j < n; j++) {
                    sum += expl(((long double)ref.z[j] - ref.m) * ref.s);
                }
                int64_t *order = ref.token >= 0 && tn > 0 ? TF(rank_all)(ref.z, n) : NULL;
                for (int64_t r = 0; r < R && st == PANMAX_OK; r++) {
                    TF(ref_redraw)(&ref, n, pm_draw64((uint64_t)seeds[r], (uint64_t)steps[r]));
                    (*draws)++;
                    CHECK(tok[r] == ref.token,
                          "n %lld fam %d T %g k %lld p %g minp %g rep %g: token %lld, reference %lld",
                          (long long)n, fam, c.temperature, (long long)c.top_k, c.top_p, c.min_p,
                          c.repetition_penalty, (long long)tok[r], (long long)ref.token);
                    if (ref.token >= 0 && tok[r] == ref.token) {
                        const RT *s = sc + r * PANMAX_SCORE_COUNT;
                        long double p = (long double)ref.qc / (long double)ref.mass;
                        CHECK(fabsl(s[PANMAX_SCORE_PROB] - p) <= 2 * RD.eps * p,
                              "prob %.9g vs %.9Lg", (double)s[PANMAX_SCORE_PROB], p);
                        CHECK(fabsl(s[PANMAX_SCORE_LOGPROB] - logl(p)) <= 4 * RD.eps * (1 + fabsl(logl(p))),
                              "logprob %.9g vs %.9Lg", (double)s[PANMAX_SCORE_LOGPROB], logl(p));
                        /* raw: softmax(z * s) at the chosen token */
                        long double zc = ref.z[ref.token];
                        long double rlp = (zc - ref.m) * ref.s - logl(sum);
                        /* the ISA's expsum: a few ulps per term, accumulated in double (sqrt(n)) */
                        long double scale = 1 + fabsl((zc - ref.m) * ref.s) + sqrtl((long double)n) * DBL_EPSILON / RD.eps;
                        CHECK(fabsl(s[PANMAX_SCORE_RAW_LOGPROB] - rlp) <= 8 * RD.eps * scale,
                              "raw logprob %.9g vs %.9Lg", (double)s[PANMAX_SCORE_RAW_LOGPROB], rlp);
                        CHECK(fabsl(s[PANMAX_SCORE_RAW_PROB] - expl(rlp)) <= 8 * RD.eps * scale * expl(rlp) + RD.tmin,
                              "raw prob %.9g vs %.9Lg", (double)s[PANMAX_SCORE_RAW_PROB], expl(rlp));
                        if (tn > 0) {
                            for (int64_t i = 0; i < tn; i++) {
                                CHECK_EQ_INT(ti[r * tn + i], order[i]);
                                long double lp = ((long double)ref.z[order[i]] - ref.m) * ref.s - logl(sum);
                                long double v = tl[r * tn + i];
                                CHECK(tu_same(v, lp) || fabsl(v - lp) <= 8 * RD.eps * (scale + fabsl(lp)),
                                      "top logprob %.9Lg vs %.9Lg", v, lp);
                            }
                        }
                    } else if (ref.token < 0) {
                        CHECK(isnan(sc[r * PANMAX_SCORE_COUNT]), "no-token row without NaN scores");
                    }
                }
                free(order);
                TF(ref_free)(&ref);
                gfree(xs);
                gfree(seeds);
                gfree(steps);
                gfree(tok);
                gfree(sc);
                gfree(ti);
                gfree(tl);
                gfree(h);
                if (b) {
                    gfree(b);
                }
                if (mk) {
                    gfree(mk);
                }
            }
            gfree(x);
        }
    }
}

/* Chi-square of many seeded draws against the exact filtered distribution q / M, with fixed seeds
 * (so the verdict is fixed too); and equally spaced uniforms, whose counts must match N q / M
 * within 1 (the draw is monotone in u). Tokens outside the kept set must never appear. */
static void TF(test_sample_stats)(int32_t isa)
{
    enum { N = 60000, V = 12 };
    static const double logit[V] = {2.0, 1.7, 1.7, 1.2, 0.9, 0.5, 0.4, 0.0, -0.5, -1.0, -3.0, -6.0};
    RT row[V];
    for (int j = 0; j < V; j++) {
        row[j] = (RT)logit[j];
    }
    const panmax_sample_config base = {0.9, 1, 0, 1, 0, 0, 0, 0, 20240601u, 0};
    panmax_sample_config cfgs[5] = {base, base, base, base, base};
    cfgs[1].top_k = 7;
    cfgs[2].top_p = 0.8;
    cfgs[3].min_p = 0.1;
    cfgs[4].top_k = 9;
    cfgs[4].top_p = 0.9;
    cfgs[4].min_p = 0.03;
    RT *xs = talloc(&RD, (int64_t)N * V);
    for (int64_t r = 0; r < N; r++) {
        memcpy(xs + r * V, row, sizeof row);
    }
    int64_t *steps = galloc((size_t)N * 8), *tok = galloc((size_t)N * 8);
    double *u = galloc((size_t)N * 8);
    for (int64_t r = 0; r < N; r++) {
        steps[r] = r;
        u[r] = ((double)r + 0.5) / N;
    }
    for (int ci = 0; ci < 5; ci++) {
        TF(ref_result) ref = TF(ref_sample)(row, V, &cfgs[ci], NULL, 0, NULL, NULL, 0);
        CHECK_EQ_INT(TP(sample)(xs, V, N, V, &cfgs[ci], NULL, 0, 0, NULL, 0, NULL, 0, NULL, steps, NULL,
                                tok, NULL, 0, NULL, 0, NULL, 0, isa), PANMAX_OK);
        long count[V] = {0};
        for (int64_t r = 0; r < N; r++) {
            if (tok[r] >= 0 && tok[r] < V) {
                count[tok[r]]++;
            }
        }
        double chi2 = 0;
        int df = -1;
        for (int j = 0; j < V; j++) {
            double e = (double)N * (double)ref.q[j] / (double)ref.mass;
            if (!ref.kept[j]) {
                CHECK(count[j] == 0, "config %d: token %d is filtered out but was drawn %ld times", ci, j, count[j]);
                continue;
            }
            chi2 += (count[j] - e) * (count[j] - e) / e;
            df++;
        }
        /* critical value at significance 1e-4 by Wilson-Hilferty (z = 3.719) */
        double crit = df > 0 ? df * pow(1 - 2.0 / (9 * df) + 3.719 * sqrt(2.0 / (9 * df)), 3) : 0;
        CHECK(df == 0 ? chi2 == 0 : chi2 <= crit, "config %d: chi-square %.2f > %.2f (df %d)", ci, chi2, crit, df);
        printf("  %s stats config %d: chi-square %.2f, critical %.2f at 1e-4 (df %d)\n", RD.name, ci, chi2, crit, df);
        CHECK_EQ_INT(TP(sample)(xs, V, N, V, &cfgs[ci], NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, u, tok,
                                NULL, 0, NULL, 0, NULL, 0, isa), PANMAX_OK);
        memset(count, 0, sizeof count);
        for (int64_t r = 0; r < N; r++) {
            if (tok[r] >= 0 && tok[r] < V) {
                count[tok[r]]++;
            }
        }
        for (int j = 0; j < V; j++) {
            double e = (double)N * (double)ref.q[j] / (double)ref.mass;
            CHECK(fabs(count[j] - (ref.kept[j] ? e : 0)) <= 1.0, "config %d uniforms: token %d drawn %ld, expected %.2f",
                  ci, j, count[j], ref.kept[j] ? e : 0);
        }
        TF(ref_free)(&ref);
    }
    gfree(xs);
    gfree(steps);
    gfree(tok);
    gfree(u);
}

static void TF(test_sample_errors)(int32_t isa)
{
    enum { V = 6 };
    _Alignas(16) RT x[2 * V] = {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6};
    const panmax_sample_config ok = {1, 1, 0, 1, 0, 0, 0, 0, 1, 2};
    int64_t *tok = galloc(2 * 8);
    RT *sc = talloc(&RD, 2 * PANMAX_SCORE_COUNT);
    memset(tok, TU_POISON, 16);
    panmax_sample_config bad[20];
    int nb = 0;
    const double t_small = RD.f64 ? 1e-310 : 1e-40;
    const double temps[] = {-1, NAN, INFINITY, t_small};
    for (int i = 0; i < 4; i++) {
        bad[nb] = ok;
        bad[nb++].temperature = temps[i];
    }
    bad[nb] = ok; bad[nb++].top_k = -1;
    bad[nb] = ok; bad[nb++].top_p = 0;
    bad[nb] = ok; bad[nb++].top_p = 1.5;
    bad[nb] = ok; bad[nb++].top_p = NAN;
    bad[nb] = ok; bad[nb++].min_p = -0.1;
    bad[nb] = ok; bad[nb++].min_p = 1.1;
    bad[nb] = ok; bad[nb++].min_p = NAN;
    bad[nb] = ok; bad[nb++].repetition_penalty = 0;
    bad[nb] = ok; bad[nb++].repetition_penalty = INFINITY;
    bad[nb] = ok; bad[nb++].presence_penalty = -1;
    bad[nb] = ok; bad[nb++].frequency_penalty = NAN;
    bad[nb] = ok; bad[nb++].top_logprobs = -1;
    bad[nb] = ok; bad[nb++].top_logprobs = V + 1;
    for (int i = 0; i < nb; i++) {
        int64_t ti[(V + 1) * 2];
        CHECK_EQ_INT(TP(sample)(x, V, 2, V, &bad[i], NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                                PANMAX_SCORE_COUNT, ti, V + 1, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    }
    int64_t h[2] = {0, V};
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, h, 0, 2, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    h[1] = -2;
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, h, 0, 2, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    uint8_t mk[2 * V] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* row 1 bans everything */
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, mk, V, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    double us[2] = {0.5, 1.0};
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, us, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    us[1] = NAN;
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, us, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    int64_t seeds[2] = {1, 2};
    us[1] = 0.25;
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, seeds, NULL, us, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    CHECK_EQ_INT(TP(sample)(NULL, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_NULL);
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, NULL, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_NULL);
    panmax_sample_config withtop = ok;
    withtop.top_logprobs = 2;
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &withtop, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_NULL);
    CHECK_EQ_INT(TP(sample)(x, V, -1, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_SIZE);
    CHECK_EQ_INT(TP(sample)(x, V - 1, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_STRIDE);
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc, 3,
                            NULL, 0, NULL, 0, isa), PANMAX_ERR_STRIDE);
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, (int64_t *)(void *)x,
                            sc, PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_ERR_OVERLAP);
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL,
                            (int64_t *)(void *)((char *)tok + 1), sc, PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa),
                 PANMAX_ERR_ALIGNMENT);
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, 9), PANMAX_ERR_ISA);
    CHECK(tu_is_poison(tok, 16) && tu_is_poison(sc, 2 * PANMAX_SCORE_COUNT * sizeof(RT)),
          "a rejected sample call wrote its outputs");
    /* the same call accepted */
    CHECK_EQ_INT(TP(sample)(x, V, 2, V, &ok, NULL, 0, 0, NULL, 0, mk, 0, NULL, NULL, NULL, tok, sc,
                            PANMAX_SCORE_COUNT, NULL, 0, NULL, 0, isa), PANMAX_OK);
    CHECK(tok[0] == 0 && tok[1] == 0, "a broadcast mask keeping token 0 only: %lld %lld", (long long)tok[0],
          (long long)tok[1]);
    gfree(tok);
    gfree(sc);
}

/* ---- heads ---------------------------------------------------------------------------------------- */

typedef struct { int64_t B, d, K; } TF(head_shape);

static void TF(test_head)(int32_t isa)
{
    static const TF(head_shape) shapes[] = {{1, 1, 1}, {1, 7, 5}, {3, 1, 17}, {5, 13, 1000}, {2, 9, 1025},
                                            {7, 33, 2050}, {65, 20, 300}, {1, 64, 3000}, {4, 3, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int64_t B = shapes[si].B, d = shapes[si].d, K = shapes[si].K;
        for (int variant = 0; variant < 8; variant++) {
            const int trans = variant & 1, log_out = (variant >> 1) & 1, exact = (variant >> 2) & 1;
            const int use_bias = (int)tu_below(2);
            const RT T = tu_below(2) ? (RT)1 : (RT)0.7;
            const int64_t k = K < 5 ? K : 5;
            const int64_t xs = d + 2, ws = (trans ? K : d) + 1, ls = K + 3;
            RT *x = talloc(&RD, B * xs), *w = talloc(&RD, (trans ? d : K) * ws), *bias = talloc(&RD, K);
            for (int64_t i = 0; i < B * xs; i++) {
                x[i] = exact ? (RT)(tu_below(7) - 3) : (RT)gauss();
            }
            for (int64_t i = 0; i < (trans ? d : K) * ws; i++) {
                w[i] = exact ? (RT)(tu_below(5) - 2) : (RT)(gauss() / sqrt((double)d));
            }
            for (int64_t i = 0; i < K; i++) {
                bias[i] = exact ? (RT)(tu_below(3) - 1) : (RT)gauss();
            }
            if (B > 2 && !exact) {
                x[1 * xs + d / 2] = (RT)NAN; /* row 1 is NaN */
            }
            RT *lg = talloc(&RD, B * ls), *pr = talloc(&RD, B * ls), *tv = talloc(&RD, B * k);
            int64_t *ti = galloc((size_t)(B * k) * 8);
            const int flags = (trans ? PANMAX_HEAD_W_TRANSPOSED : 0) | (log_out ? PANMAX_FLAG_LOG : 0);
            CHECK_EQ_INT(TP(head)(x, xs, B, d, w, ws, K, use_bias ? bias : NULL, T, flags, lg, ls, pr, ls, k, ti, k,
                                  tv, k, isa), PANMAX_OK);
            /* top-k only: same indices and values, and nothing else written */
            int64_t *ti2 = galloc((size_t)(B * k) * 8);
            RT *tv2 = talloc(&RD, B * k);
            CHECK_EQ_INT(TP(head)(x, xs, B, d, w, ws, K, use_bias ? bias : NULL, T, flags, NULL, 0, NULL, 0, k, ti2,
                                  k, tv2, k, isa), PANMAX_OK);
            CHECK(memcmp(ti, ti2, (size_t)(B * k) * 8) == 0, "top-k-only indices differ");
            for (int64_t i = 0; i < B * k; i++) {
                CHECK(tu_same(tv[i], tv2[i]), "top-k-only values differ: %g %g", (double)tv[i], (double)tv2[i]);
            }
            /* probabilities only: the same as with logits */
            RT *pr2 = talloc(&RD, B * ls);
            CHECK_EQ_INT(TP(head)(x, xs, B, d, w, ws, K, use_bias ? bias : NULL, T, flags, NULL, 0, pr2, ls, 0, NULL,
                                  0, NULL, 0, isa), PANMAX_OK);
            long double *z = xmalloc((size_t)K * sizeof *z);
            for (int64_t r = 0; r < B; r++) {
                long double mx = -INFINITY, sum = 0, zabs = 0;
                int nan = 0;
                for (int64_t c = 0; c < K; c++) {
                    long double acc = 0, aabs = 0;
                    for (int64_t i = 0; i < d; i++) {
                        long double p = (long double)x[r * xs + i] * (trans ? w[i * ws + c] : w[c * ws + i]);
                        acc += p;
                        aabs += fabsl(p);
                    }
                    z[c] = acc + (use_bias ? bias[c] : 0);
                    nan |= isnan(z[c]);
                    zabs = aabs > zabs ? aabs : zabs;
                    mx = z[c] > mx ? z[c] : mx;
                }
                /* the gemm's error: d roundings of the running sum, in the element type */
                const long double zerr = (d + 2) * RD.eps * zabs + RD.eps * (use_bias ? 4 : 0);
                for (int64_t c = 0; c < K && !nan; c++) {
                    sum += expl((z[c] - mx) / T);
                }
                for (int64_t c = 0; c < K; c++) {
                    long double gl = lg[r * ls + c], gp = pr[r * ls + c], gp2 = pr2[r * ls + c];
                    CHECK(tu_same(gp, gp2), "probs with and without logits differ: %Lg %Lg", gp, gp2);
                    if (nan) {
                        CHECK(isnan(gl) && isnan(gp), "NaN row: %Lg %Lg", gl, gp);
                        continue;
                    }
                    CHECK(fabsl(gl - z[c]) <= zerr, "logit %Lg vs %Lg (tol %Lg)", gl, z[c], zerr);
                    long double lp = (z[c] - mx) / T - logl(sum);
                    if (log_out) {
                        long double tol = 2 * zerr / T + 8 * RD.eps * (1 + fabsl(lp));
                        CHECK(fabsl(gp - lp) <= tol, "B %lld d %lld K %lld logprob %Lg vs %Lg", (long long)B,
                              (long long)d, (long long)K, gp, lp);
                    } else {
                        long double p = expl(lp);
                        long double tol = p * (2 * zerr / T + 8 * RD.eps * (1 + fabsl((z[c] - mx) / T))) + RD.tmin;
                        CHECK(fabsl(gp - p) <= tol, "B %lld d %lld K %lld prob %Lg vs %Lg", (long long)B,
                              (long long)d, (long long)K, gp, p);
                    }
                }
                if (nan) {
                    for (int64_t i = 0; i < k; i++) {
                        CHECK(ti[r * k + i] == PANMAX_NO_TOKEN && isnan(tv[r * k + i]), "NaN row top-k");
                    }
                    continue;
                }
                /* top-k: with exact (integer) inputs the logits are exact, so the ranking must be
                 * the reference's to the index, ties to the lower index */
                RT *zr = xmalloc((size_t)K * sizeof *zr);
                for (int64_t c = 0; c < K; c++) {
                    zr[c] = exact ? (RT)z[c] : lg[r * ls + c];
                }
                int64_t *order = TF(rank_all)(zr, K);
                for (int64_t i = 0; i < k; i++) {
                    CHECK(ti[r * k + i] == order[i], "B %lld K %lld exact %d: top %lld is %lld, want %lld",
                          (long long)B, (long long)K, exact, (long long)i, (long long)ti[r * k + i],
                          (long long)order[i]);
                    long double lp = (z[order[i]] - mx) / T - logl(sum);
                    long double want = log_out ? lp : expl(lp);
                    long double tol = log_out ? 2 * zerr / T + 8 * RD.eps * (1 + fabsl(lp))
                                              : expl(lp) * (2 * zerr / T + 8 * RD.eps * (1 + fabsl(lp))) + RD.tmin;
                    CHECK(fabsl(tv[r * k + i] - want) <= tol, "top value %g vs %Lg", (double)tv[r * k + i], want);
                }
                free(order);
                free(zr);
            }
            free(z);
            gfree(x); gfree(w); gfree(bias); gfree(lg); gfree(pr); gfree(pr2); gfree(tv); gfree(tv2);
            gfree(ti); gfree(ti2);
        }
    }
    /* Split invariance: calls starting at multiples of panmax_head_row_block() give the same bits. */
    {
        const int64_t B = 150, d = 40, K = 2100, blk = panmax_head_row_block();
        RT *x = talloc(&RD, B * d), *w = talloc(&RD, K * d), *p1 = talloc(&RD, B * K), *p2 = talloc(&RD, B * K);
        for (int64_t i = 0; i < B * d; i++) {
            x[i] = (RT)gauss();
        }
        for (int64_t i = 0; i < K * d; i++) {
            w[i] = (RT)(gauss() / 6);
        }
        CHECK_EQ_INT(TP(head)(x, d, B, d, w, d, K, NULL, 1, 0, NULL, 0, p1, K, 0, NULL, 0, NULL, 0, isa), PANMAX_OK);
        for (int64_t r0 = 0; r0 < B; r0 += blk) {
            int64_t nr = B - r0 < blk ? B - r0 : blk;
            CHECK_EQ_INT(TP(head)(x + r0 * d, d, nr, d, w, d, K, NULL, 1, 0, NULL, 0, p2 + r0 * K, K, 0, NULL, 0,
                                  NULL, 0, isa), PANMAX_OK);
        }
        CHECK(memcmp(p1, p2, (size_t)(B * K) * sizeof(RT)) == 0, "split at row blocks changed the bits");
        /* row by row: informational (OpenBLAS may choose other kernels for other shapes) */
        for (int64_t r = 0; r < B; r++) {
            TP(head)(x + r * d, d, 1, d, w, d, K, NULL, 1, 0, NULL, 0, p2 + r * K, K, 0, NULL, 0, NULL, 0, isa);
        }
        printf("  %s head row-by-row vs batched: %s\n", RD.name,
               memcmp(p1, p2, (size_t)(B * K) * sizeof(RT)) == 0 ? "bit-identical" : "differs (gemv vs gemm)");
        gfree(x); gfree(w); gfree(p1); gfree(p2);
    }
    /* errors */
    RT x[4] = {1, 2, 3, 4}, w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    RT *out = talloc(&RD, 8);
    int64_t *ti = galloc(8 * 8);
    CHECK_EQ_INT(TP(head)(x, 2, 2, 2, w, 2, 4, NULL, 1, 0, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, isa), PANMAX_ERR_NULL);
    CHECK_EQ_INT(TP(head)(x, 2, 2, 2, w, 1, 4, NULL, 1, 0, out, 4, NULL, 0, 0, NULL, 0, NULL, 0, isa), PANMAX_ERR_STRIDE);
    CHECK_EQ_INT(TP(head)(x, 2, 2, 2, w, 2, 4, NULL, 0, 0, out, 4, NULL, 0, 0, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    CHECK_EQ_INT(TP(head)(x, 2, 2, 2, w, 2, 4, NULL, 1, 2, out, 4, NULL, 0, 0, NULL, 0, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    CHECK_EQ_INT(TP(head)(x, 2, 1, 2, w, 2, 4, NULL, 1, 0, NULL, 0, NULL, 0, 5, ti, 5, NULL, 0, isa), PANMAX_ERR_ARGUMENT);
    CHECK_EQ_INT(TP(head)(x, 2, 1, 2, w, 2, 4, NULL, 1, 0, NULL, 0, NULL, 0, 0, ti, 1, NULL, 0, isa), PANMAX_ERR_SIZE);
    CHECK_EQ_INT(TP(head)(x, 2, 2, 2, w, 2, 4, NULL, 1, 0, w, 4, NULL, 0, 0, NULL, 0, NULL, 0, isa), PANMAX_ERR_OVERLAP);
    CHECK(tu_is_poison(out, 8 * sizeof(RT)), "a rejected head call wrote");
    gfree(out);
    gfree(ti);
}

/* ---- the loop kernels: every ISA variant gives the baseline's bits ---------------------------------- */

static void TF(test_kernel_variants)(const pm_infer_kernels *a, const pm_infer_kernels *b)
{
    static const int64_t sizes[] = {1, 5, 63, 64, 65, 1000, 4099};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const int64_t n = sizes[si];
        for (int fam = 0; fam < FAMILIES; fam++) {
            RT *z = talloc(&RD, n);
            TF(fill_row)(z, n, fam);
            if (fam == 7) {
                /* maxnan finds a NaN anywhere: in a full block, in the tail, first or last */
                const int64_t at[] = {0, n - 1, n / 2, (n / 64) * 64 < n ? (n / 64) * 64 : n - 1};
                for (size_t ai = 0; ai < sizeof at / sizeof at[0]; ai++) {
                    TF(fill_row)(z, n, 1);
                    z[at[ai]] = (RT)NAN;
                    RT m0, sbx[4099 / 256 + 1];
                    CHECK(B_CAT(a->maxnan_, RS)(z, n, &m0, NULL) && B_CAT(b->maxnan_, RS)(z, n, &m0, NULL) &&
                              B_CAT(a->maxnan_, RS)(z, n, &m0, sbx) && B_CAT(b->maxnan_, RS)(z, n, &m0, sbx),
                          "maxnan missed a NaN at %lld of %lld", (long long)at[ai], (long long)n);
                }
                gfree(z);
                continue; /* NaN rows never reach the other kernels */
            }
            RT ma = -B_INF;
            for (int64_t j = 0; j < n; j++) {
                ma = z[j] > ma ? z[j] : ma;
            }
            RT mxa = 0, mxb = 0, mxc = 0, sba[4099 / 256 + 1], sbb[4099 / 256 + 1];
            const int na = B_CAT(a->maxnan_, RS)(z, n, &mxa, NULL), nb = B_CAT(b->maxnan_, RS)(z, n, &mxb, sbb);
            const int nc = B_CAT(a->maxnan_, RS)(z, n, &mxc, sba);
            CHECK(!na && !nb && !nc && mxa == mxb && mxa == ma && mxc == ma, "maxnan: %d %d %d, %g %g %g against %g",
                  na, nb, nc, (double)mxa, (double)mxb, (double)mxc, (double)ma);
            /* the super-block maxima, and block_max at two block sizes, against their definition */
            pm_ent *bx = xmalloc((size_t)(n / 64 + 1) * sizeof *bx);
            for (int64_t bsz = 64; bsz <= 256; bsz *= 4) {
                const int64_t nbk = B_CAT(a->block_max_, RS)(z, n, bsz, bx);
                CHECK(nbk == (n + bsz - 1) / bsz, "block_max: %lld blocks", (long long)nbk);
                for (int64_t bi = 0; bi < nbk; bi++) {
                    RT want = -B_INF;
                    for (int64_t j = bi * bsz; j < n && j < (bi + 1) * bsz; j++) {
                        want = z[j] > want ? z[j] : want;
                    }
                    CHECK(bx[bi].z == (double)want && bx[bi].idx == bi, "block_max %lld of %lld", (long long)bi,
                          (long long)bsz);
                    if (bsz == 256) {
                        CHECK(sba[bi] == want && sbb[bi] == want, "maxnan's super-block max %lld", (long long)bi);
                    }
                }
            }
            free(bx);
            if (!isfinite(ma)) {
                gfree(z);
                continue;
            }
            const RT s = (RT)0.77, t0 = (RT)-9.5, inv_w = (RT)(1024 / 9.5);
            const double offset = pm_quant_offset(n);
            static uint64_t ha[4096], hb[4096], ba[4099 / 64 + 1], bb[4099 / 64 + 1];
            memset(ha, 0, sizeof ha);
            memset(hb, 0, sizeof hb);
            uint64_t qa = B_CAT(a->mass_, RS)(z, n, ma, s, offset, t0, inv_w, 1024, ha, ba);
            uint64_t qb = B_CAT(b->mass_, RS)(z, n, ma, s, offset, t0, inv_w, 1024, hb, bb);
            CHECK(qa == qb && memcmp(ha, hb, 1024 * 8) == 0 && memcmp(ba, bb, (size_t)((n + 63) / 64) * 8) == 0,
                  "mass differs: %llu vs %llu", (unsigned long long)qa, (unsigned long long)qb);
            uint64_t hsum = 0;
            for (int i = 0; i < 1024; i++) {
                hsum += ha[i];
            }
            uint64_t above = 0;
            for (int64_t j = 0; j < n; j++) {
                RT tj = (z[j] - ma) * s;
                above += tj >= t0 ? pm_quant((double)B_CAT(pm_dexp_, RS)(tj), offset) : 0;
            }
            CHECK(hsum == above, "histogram holds %llu, the entries above t0 %llu", (unsigned long long)hsum,
                  (unsigned long long)above);
            pm_ent *ea = xmalloc((size_t)n * sizeof *ea), *eb = xmalloc((size_t)n * sizeof *eb);
            int64_t *sbk = xmalloc((size_t)PM_SUPER_COUNT(n) * sizeof *sbk);
            int64_t ca = B_CAT(a->collect_, RS)(z, n, ma, s, offset, t0, inv_w, 1024, 0, 300, NULL, sbk, ea, NULL);
            int64_t cb = B_CAT(b->collect_, RS)(z, n, ma, s, offset, t0, inv_w, 1024, 0, 300, sba, sbk, eb, NULL);
            CHECK(ca == cb && memcmp(ea, eb, (size_t)ca * sizeof *ea) == 0, "collect differs");
            /* collect against its definition, at thresholds that fall exactly on an entry's t (the
             * z threshold it derives must neither drop nor add that entry), temperatures far from
             * 1, and t0 = -inf; with and without the bucket bound */
            for (int rep = 0; rep < 6; rep++) {
                const RT sr = rep == 0 ? (RT)1 : rep == 1 ? (RT)1e-3 : rep == 2 ? (RT)1e3 : (RT)tu_range(0.2, 5);
                const RT tj = (z[tu_below(n)] - ma) * sr;
                const RT tr = rep == 5 ? -B_INF : tj < 0 ? tj : (RT)-tu_range(0.01, 20);
                /* a bucket range needs a finite t0 (collect's contract) */
                const int32_t bm = rep & 1 || !(tr > -B_INF) ? -1 : rep == 4 ? (int32_t)tu_below(1024) : 300;
                const int32_t bn = rep == 4 ? bm : rep == 2 ? (int32_t)tu_below(301) : 0; /* one bucket; a range */
                const RT iw = tr > -B_INF ? (RT)(1024 / -(double)tr) : (RT)0;
                double tail = -1;
                int64_t cr = B_CAT(a->collect_, RS)(z, n, ma, sr, offset, tr, iw, 1024, bn, bm, rep & 2 ? sba : NULL, sbk, ea,
                                                    bm < 0 ? &tail : NULL);
                int64_t want = 0;
                uint64_t left_out = 0; /* sum(q) over the entries below t0 */
                for (int64_t j = 0; j < n; j++) {
                    const RT t = (z[j] - ma) * sr;
                    left_out += t >= tr ? 0 : pm_quant((double)B_CAT(pm_dexp_, RS)(t), offset);
                    const int32_t bkt = (int32_t)(-t * iw) < 1024 ? (int32_t)(-t * iw) : 1023;
                    if (!(t >= tr) || (bm >= 0 && tr > -B_INF && (bkt > bm || bkt < bn))) {
                        continue;
                    }
                    CHECK(want < cr && ea[want].idx == j && ea[want].z == (double)z[j] &&
                              ea[want].q == pm_quant((double)B_CAT(pm_dexp_, RS)(t), offset),
                          "collect entry %lld: index %lld, t %g >= t0 %g (s %g)", (long long)want, (long long)j,
                          (double)t, (double)tr, (double)sr);
                    want++;
                }
                CHECK(cr == want, "collect kept %lld, the definition %lld (t0 %g, s %g)", (long long)cr,
                      (long long)want, (double)tr, (double)sr);
                if (bm < 0) { /* the bound on the mass left out: above it, and finite with maxima */
                    CHECK((rep & 2 ? isfinite(tail) : tail == INFINITY) && tail >= (double)left_out,
                          "collect's tail bound %g, the mass left out %llu (t0 %g, s %g)", tail,
                          (unsigned long long)left_out, (double)tr, (double)sr);
                }
            }
            uint64_t target = qa / 3, qca, qcb;
            int64_t wa = B_CAT(a->walk_, RS)(z, n, ma, s, offset, NULL, target, &qca);
            int64_t wb = B_CAT(b->walk_, RS)(z, n, ma, s, offset, bb, target, &qcb);
            CHECK(wa == wb && qca == qcb, "walk differs");
            /* walk_kept against its definition: the tokens ranked at or before a random one */
            {
                const int64_t bi = tu_below(n);
                const RT bzv = z[bi];
                uint64_t kept = 0;
                for (int64_t j = 0; j < n; j++) {
                    if (z[j] > bzv || (z[j] == bzv && j <= bi)) {
                        kept += pm_quant((double)B_CAT(pm_dexp_, RS)((z[j] - ma) * s), offset);
                    }
                }
                if (kept > 0) {
                    const uint64_t tk = (uint64_t)tu_below(kept > (1u << 30) ? (1u << 30) : kept) * (kept > (1u << 30) ? kept >> 30 : 1);
                    uint64_t run = 0, qw = 0, qka, qkb;
                    int64_t want_at = -1;
                    for (int64_t j = 0; j < n && want_at < 0; j++) {
                        if (z[j] > bzv || (z[j] == bzv && j <= bi)) {
                            qw = pm_quant((double)B_CAT(pm_dexp_, RS)((z[j] - ma) * s), offset);
                            run += qw;
                            want_at = run > tk ? j : -1;
                        }
                    }
                    const int64_t ka = B_CAT(a->walk_kept_, RS)(z, n, ma, s, offset, bzv, bi, tk, &qka);
                    const int64_t kb = B_CAT(b->walk_kept_, RS)(z, n, ma, s, offset, bzv, bi, tk, &qkb);
                    CHECK(ka == want_at && kb == want_at && qka == qw && qkb == qw,
                          "walk_kept: %lld %lld, the definition %lld", (long long)ka, (long long)kb, (long long)want_at);
                }
            }
            int32_t *ha2 = xmalloc((size_t)n * sizeof *ha2), *hb2 = xmalloc((size_t)n * sizeof *hb2);
            int64_t na2 = B_CAT(a->above_, RS)(z, n, (RT)0.1, 1, ha2), nb2 = B_CAT(b->above_, RS)(z, n, (RT)0.1, 0, hb2);
            int64_t want_gt = 0, want_ge = 0;
            for (int64_t j = 0; j < n; j++) {
                want_gt += z[j] > (RT)0.1;
                want_ge += z[j] >= (RT)0.1;
            }
            CHECK(na2 == want_gt && nb2 == want_ge, "above: %lld %lld vs %lld %lld", (long long)na2, (long long)nb2,
                  (long long)want_gt, (long long)want_ge);
            for (int64_t i = 0; i < na2; i++) {
                CHECK(z[ha2[i]] > (RT)0.1 && (i == 0 || ha2[i] > ha2[i - 1]), "above: offset %d", ha2[i]);
            }
            free(ha2);
            free(hb2);
            /* and the kernels agree with the scalar definition */
            uint64_t q = 0;
            for (int64_t j = 0; j < n; j++) {
                q += pm_quant((double)B_CAT(pm_dexp_, RS)((z[j] - ma) * s), offset);
            }
            CHECK(q == qa, "mass kernel %llu vs scalar %llu", (unsigned long long)qa, (unsigned long long)q);
            free(ea);
            free(eb);
            free(sbk);
            gfree(z);
        }
    }
}

#undef B_CAT_
#undef B_CAT
#undef TF
#undef TP
#undef B_INF
