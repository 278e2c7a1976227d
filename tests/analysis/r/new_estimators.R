# Reference values for the estimators added in issue 11 (ratio, quantile, partial
# post-stratification, bounded/raking/logit calibration, BRR/Fay/bootstrap replicates,
# replicate covariances and contrasts, likelihood intervals for proportions, subsets).
#
# Run from the repository root:  Rscript tests/analysis/r/new_estimators.R
# Needs R with the survey and jsonlite packages (apt-get install r-base-core r-cran-survey
# r-cran-jsonlite). Writes tests/analysis/data/new_estimators.json; every block records the
# R call that produced it in "call". The api data are R's own data(api), the same rows as the
# CSVs the Python tests load.
suppressMessages({library(survey); library(jsonlite)})
data(api)
out <- list(meta = list(R_version = R.version.string,
                        survey_version = as.character(packageVersion("survey")),
                        generated = format(Sys.time(), tz = "UTC", usetz = TRUE)))
designs <- list(
  dstrat = quote(svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)),
  dclus1 = quote(svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)),
  dclus2 = quote(svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)))
D <- lapply(designs, eval)
txt <- function(e) paste(deparse(e, width.cutoff = 500L), collapse = " ")
stat <- function(s) list(estimate = as.numeric(coef(s)), se = as.numeric(SE(s)))
by_table <- function(b) {
  cf <- coef(b); se <- SE(b)
  setNames(lapply(seq_along(cf), function(i) list(estimate = as.numeric(cf[i]), se = as.numeric(se[i]))),
           names(cf))
}

# ---- svyratio ------------------------------------------------------------------------
ratio <- list()
for (d in names(D)) {
  r <- svyratio(~api.stu, ~enroll, D[[d]], na.rm = TRUE, deff = TRUE)
  ratio[[d]] <- list(call = paste0("svyratio(~api.stu, ~enroll, ", d, ", na.rm=TRUE, deff=TRUE) with ", d, " = ",
                                   txt(designs[[d]])),
                     ratio = unname(coef(r)), se = unname(SE(r)), deff = unname(deff(r)),
                     degf = degf(D[[d]]))
}
b <- svyby(~api.stu, ~stype, denominator = ~enroll, D$dclus1, svyratio, covmat = TRUE)
ratio$dclus1_by_stype <- list(call = "svyby(~api.stu, ~stype, denominator=~enroll, dclus1, svyratio, covmat=TRUE)",
                              table = by_table(b), vcov = unname(vcov(b)))
ps <- postStratify(D$dclus1, ~stype, data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)))
r <- svyratio(~api.stu, ~enroll, ps)
ratio$dclus1_poststrat <- list(call = "svyratio(~api.stu, ~enroll, postStratify(dclus1, ~stype, data.frame(stype=c('E','H','M'), Freq=c(4421,755,1018))))",
                               ratio = unname(coef(r)), se = unname(SE(r)))
out$ratio <- ratio

# ---- svyquantile (survey >= 4.1 defaults: interval.type="mean", qrule="math", df=degf) --
qs <- c(0.1, 0.25, 0.5, 0.9)
quant <- list()
for (d in names(D)) {
  q <- svyquantile(~api00, D[[d]], qs, ci = TRUE)
  m <- q$api00
  quant[[d]] <- list(call = paste0("svyquantile(~api00, ", d, ", c(0.1, 0.25, 0.5, 0.9), ci=TRUE)"),
                     probs = qs, quantile = unname(m[, 1]), ci_low = unname(m[, 2]),
                     ci_high = unname(m[, 3]), se = unname(m[, 4]))
}
for (d in c("dstrat", "dclus1")) {
  b <- svyby(~api00, ~stype, D[[d]], svyquantile, quantiles = 0.5, ci = TRUE)
  lv <- levels(apistrat$stype)
  # svyby's confint() is a symmetric Wald interval; the quantile's own interval is that of
  # svyquantile on the domain, which is what svyby computes the SE from
  own <- sapply(lv, function(s) {
    m <- svyquantile(~api00, subset(D[[d]], stype == s), 0.5, ci = TRUE)$api00
    c(m[1, 2], m[1, 3], degf(subset(D[[d]], stype == s)))
  })
  quant[[paste0(d, "_median_by_stype")]] <- list(
    call = paste0("svyby(~api00, ~stype, ", d, ", svyquantile, quantiles=0.5, ci=TRUE); intervals: svyquantile(~api00, subset(", d, ", stype==s), 0.5, ci=TRUE)"),
    levels = lv, quantile = unname(coef(b)), se = unname(SE(b)),
    ci_low = unname(own[1, ]), ci_high = unname(own[2, ]), degf = unname(own[3, ]))
}
out$quantile <- quant

# ---- postStratify(partial=TRUE) -------------------------------------------------------
pop <- data.frame(stype = c("E", "H", "M", "X"), Freq = c(4421, 755, 1018, 300))
pp <- suppressWarnings(postStratify(D$dclus1, ~stype, pop, partial = TRUE))
out$poststratify_partial <- list(
  call = "postStratify(dclus1, ~stype, data.frame(stype=c('E','H','M','X'), Freq=c(4421,755,1018,300)), partial=TRUE)",
  mean_api00 = stat(svymean(~api00, pp)), total_enroll = stat(svytotal(~enroll, pp)),
  weight_sum = sum(weights(pp)))

# ---- calibrate ----------------------------------------------------------------------------
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = sum(apipop$api99))
cal <- list(population = as.list(pop.totals))
bounds <- list(dclus1 = list(linear_bounded = c(0.5, 1.6), raking_bounded = c(0.5, 1.6),
                              logit = c(0.4, 1.9)),
               dstrat = list(linear_bounded = c(0.97, 1.035), raking_bounded = c(0.97, 1.035),
                              logit = c(0.95, 1.05)))
calfuns <- c(linear = "linear", linear_bounded = "linear", raking = "raking",
             raking_bounded = "raking", logit = "logit")
for (d in c("dclus1", "dstrat")) {
  for (k in names(calfuns)) {
    bd <- if (is.null(bounds[[d]][[k]])) c(-Inf, Inf) else bounds[[d]][[k]]
    g <- calibrate(D[[d]], ~stype + api99, pop.totals, calfun = calfuns[[k]], bounds = bd,
                   epsilon = 1e-12, maxit = 100)
    cal[[paste0(d, "_", k)]] <- list(
      call = paste0("calibrate(", d, ", ~stype+api99, c(`(Intercept)`=6194, stypeH=755, stypeM=1018, api99=sum(apipop$api99)), calfun='",
                    calfuns[[k]], "', bounds=c(", bd[1], ", ", bd[2], "), epsilon=1e-12, maxit=100)"),
      calfun = calfuns[[k]], lower = if (is.finite(bd[1])) bd[1] else NULL,
      upper = if (is.finite(bd[2])) bd[2] else NULL,
      mean_api00 = stat(svymean(~api00, g)), total_enroll = stat(svytotal(~enroll, g)),
      g_range = range(weights(g) / weights(D[[d]])), weights = unname(weights(g)))
  }
}
out$calibrate <- cal

# ---- Hadamard matrices as survey builds them ---------------------------------------------
had <- list(precooked = lapply(survey:::hadamard.list, function(h) apply(h, 1, paste, collapse = "")))
for (n in c(1, 3, 4, 7, 12, 13, 20, 25, 27, 33, 40, 50, 63, 100, 130, 200)) {
  h <- hadamard(n)
  had[[paste0("n", n)]] <- list(call = paste0("hadamard(", n, ")"), rows = apply(h, 1, paste, collapse = ""))
}
had$paley_small_primes <- eval(body(survey:::paley)[[3]][[3]])
out$hadamard <- had

# ---- BRR and Fay from a linearisation design, covariances and contrasts -------------------
rep_block <- function(rd, label) {
  b <- svyby(~api00, ~stype, rd, svymean, covmat = TRUE)
  con <- svycontrast(b, c(E = 1, M = -1))
  m2 <- svymean(~api00 + api99, rd)
  con2 <- svycontrast(m2, quote(api00 - api99))
  list(call = label, degf = degf(rd), scale = rd$scale, n_replicates = ncol(rd$repweights$weights),
       mean_api00 = stat(svymean(~api00, rd)), total_enroll = stat(svytotal(~enroll, rd)),
       by_stype = by_table(b), by_stype_vcov = unname(vcov(b)),
       contrast_E_minus_M = stat(con),
       mean_api00_api99_vcov = unname(vcov(m2)), contrast_api00_minus_api99 = stat(con2))
}
brr <- suppressWarnings(as.svrepdesign(D$dstrat, type = "BRR"))
fay <- suppressWarnings(as.svrepdesign(D$dstrat, type = "Fay", fay.rho = 0.3))
out$replicate <- list(
  dstrat_brr = rep_block(brr, "as.svrepdesign(dstrat, type='BRR')  (R drops the fpc with a warning)"),
  dstrat_fay = rep_block(fay, "as.svrepdesign(dstrat, type='Fay', fay.rho=0.3)"),
  dclus1_jk1 = rep_block(as.svrepdesign(D$dclus1, type = "JK1"), "as.svrepdesign(dclus1, type='JK1')"))
out$replicate$dstrat_brr$multipliers_first_psus <- unname(brr$repweights$weights[1:6, ])
out$replicate$dstrat_fay$multipliers_first_psus <- unname(fay$repweights$weights[1:6, ])

# ---- bootstrap with fpc: R's random replicate weights are exported ------------------------
set.seed(20261202)
boot <- as.svrepdesign(D$dclus1, type = "bootstrap", replicates = 100)
blk <- rep_block(boot, "set.seed(20261202); as.svrepdesign(dclus1, type='bootstrap', replicates=100)")
blk$psu_multipliers <- unname(boot$repweights$weights)   # PSU x replicate
blk$row_psu <- boot$repweights$index                      # PSU (1-based) of each row
blk$rscales <- boot$rscales
out$replicate$dclus1_bootstrap <- blk

# ---- svyciprop(method="likelihood") ------------------------------------------------------
lik <- list()
for (d in names(D)) {
  p <- svyciprop(~I(sch.wide == "Yes"), D[[d]], method = "likelihood")
  lik[[d]] <- list(call = paste0("svyciprop(~I(sch.wide=='Yes'), ", d, ", method='likelihood')"),
                   estimate = as.numeric(unclass(p)[1]), se = sqrt(as.numeric(attr(p, "var"))),
                   ci_low = unname(confint(p)[1]), ci_high = unname(confint(p)[2]))
}
p <- svyciprop(~I(awards == "Yes"), D$dclus1, method = "likelihood", level = 0.9)
lik$dclus1_awards_90 <- list(call = "svyciprop(~I(awards=='Yes'), dclus1, method='likelihood', level=0.9)",
                             estimate = as.numeric(unclass(p)[1]), ci_low = unname(confint(p)[1]),
                             ci_high = unname(confint(p)[2]))
lv <- levels(apiclus1$stype)
own <- sapply(lv, function(s) {
  p <- svyciprop(~I(sch.wide == "Yes"), subset(D$dclus1, stype == s), method = "likelihood")
  c(as.numeric(unclass(p)[1]), confint(p))
})
lik$dclus1_by_stype <- list(call = "svyciprop(~I(sch.wide=='Yes'), subset(dclus1, stype==s), method='likelihood') for s in E, H, M (what svyby(..., svyciprop) computes per domain)",
                            levels = lv, estimate = unname(own[1, ]),
                            ci_low = unname(own[2, ]), ci_high = unname(own[3, ]))
sx <- c(-1.3, -0.2, 0.4, 1.1, 2.5, 2.9, 4.2)
sy <- c(-2.1, -0.9, 0.1, 0.8, 1.9, 2.2, 3.5)
sp <- spline(sx, sy)
lik$spline_fmm <- list(call = "spline(x, y)  (method='fmm', n=3*length(x))", x = sx, y = sy,
                       out_x = sp$x, out_y = sp$y)
out$ciprop_likelihood <- lik

# ---- subset(): domain estimation that keeps the whole design ----------------------------
sub <- list()
s1 <- subset(D$dclus1, stype == "E")
sub$dclus1_E <- list(call = "subset(dclus1, stype=='E')", degf = degf(s1),
                     mean_api00 = stat(svymean(~api00, s1)), total_enroll = stat(svytotal(~enroll, s1)))
s2 <- subset(D$dstrat, api99 > 650)
sub$dstrat_api99_gt_650 <- list(call = "subset(dstrat, api99 > 650)", degf = degf(s2),
                                mean_api00 = stat(svymean(~api00, s2)),
                                total_enroll = stat(svytotal(~enroll, s2)))
s3 <- subset(ps, sch.wide == "Yes")
sub$dclus1_poststrat_schwide <- list(call = "subset(postStratify(dclus1, ~stype, <E=4421,H=755,M=1018>), sch.wide=='Yes')",
                                     degf = degf(s3), mean_api00 = stat(svymean(~api00, s3)),
                                     total_enroll = stat(svytotal(~enroll, s3)))
s4 <- subset(D$dclus2, enroll > 300)
sub$dclus2_enroll_gt_300 <- list(call = "subset(dclus2, enroll > 300)", degf = degf(s4),
                                 mean_api00 = stat(svymean(~api00, s4)))
out$subset <- sub

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/analysis/data/new_estimators.json")
