# Reference values for the places where analysis/ used to depart from R survey (issue 11):
# domain proportions on the domain's degrees of freedom, svyciprop(method="beta") counting
# rows with a missing outcome, JKn replicates with a certainty stratum, lonely.psu="average"
# inside domains and at stage 2.  Writes tests/analysis/data/api_h_departures.json.
# Run from the repository root:  Rscript tests/analysis/r/departures.R
source(file.path("tests", "analysis", "r", "common.R"))
data(api)

ciprop_by <- function(formula, by, design, method, ...) {
  res <- svyby(formula, by, design, svyciprop, method = method, vartype = c("se", "ci"), ...)
  levels <- as.character(res[[1]])
  out <- lapply(seq_along(levels), function(i) {
    sub <- design[as.character(design$variables[[as.character(by[[2]])]]) == levels[i], ]
    list(estimate = as.numeric(res[i, 2]), se = as.numeric(res[i, 3]),
         ci_low = as.numeric(res[i, "ci_l"]), ci_high = as.numeric(res[i, "ci_u"]),
         degf = degf(sub), nrow = nrow(sub))
  })
  names(out) <- levels
  out
}

ciprop <- function(formula, design, method, ...) {
  p <- svyciprop(formula, design, method = method, ...)
  ci <- confint(p)
  list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p)), ci_low = as.numeric(ci[1]),
       ci_high = as.numeric(ci[2]), degf = degf(design), nrow = nrow(design))
}

methods <- c(logit = "logit", beta = "beta", wald = "mean", asin = "asin")
list2env(api_designs(apistrat, apiclus1, apiclus2), environment())  # dstrat, dclus1, dclus2, rclus1

domain_df <- list(
  call = "svyby(~I(sch.wide == 'Yes'), ~stype, design, svyciprop, method = m, vartype = c('se', 'ci')); degf and nrow of design[stype == level, ]",
  dstrat = lapply(methods, function(m) ciprop_by(~I(sch.wide == "Yes"), ~stype, dstrat, m)),
  dclus1 = lapply(methods, function(m) ciprop_by(~I(sch.wide == "Yes"), ~stype, dclus1, m)),
  rclus1 = list(
    call = "rclus1 <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide)) (default control); a calibrated design's subset keeps every row (nrow = 183)",
    beta = ciprop_by(~I(stype == "E"), ~sch.wide, rclus1, "beta"),
    logit = ciprop_by(~I(stype == "E"), ~sch.wide, rclus1, "logit")))

beta_na <- list(
  call = "svyciprop(~I(acs.k3 > 20), dclus1, method = 'beta', na.rm = TRUE) and svyby(~I(acs.k3 > 20), ~sch.wide, dclus1, svyciprop, method = 'beta', na.rm = TRUE): acs.k3 is missing for 39 rows",
  missing = sum(is.na(apiclus1$acs.k3)),
  overall = ciprop(~I(acs.k3 > 20), dclus1, "beta", na.rm = TRUE),
  by_sch_wide = ciprop_by(~I(acs.k3 > 20), ~sch.wide, dclus1, "beta", na.rm = TRUE))

cert <- apistrat
cert$fpc_cert <- ifelse(cert$stype == "H", 50, cert$fpc)
dcert <- svydesign(id = ~1, strata = ~stype, fpc = ~fpc_cert, data = cert)
rcert <- as.svrepdesign(dcert, type = "JKn")
rcert_mse <- as.svrepdesign(dcert, type = "JKn", mse = TRUE)
jkn_stat <- function(stat, design) list(estimate = as.numeric(coef(stat)), se = as.numeric(SE(stat)),
                                        degf = degf(design))
by_entry <- function(res) {
  out <- lapply(seq_len(nrow(res)), function(i) list(estimate = as.numeric(res[i, 2]), se = as.numeric(res[i, 3])))
  names(out) <- as.character(res[[1]])
  out
}
jkn_certainty <- list(
  design = "cert <- apistrat; cert$fpc_cert <- ifelse(cert$stype == 'H', 50, cert$fpc); dcert <- svydesign(id = ~1, strata = ~stype, fpc = ~fpc_cert, data = cert)  (stratum H is sampled completely; weights implied by the fpc)",
  call = "as.svrepdesign(dcert, type = 'JKn') [mse = FALSE; and mse = TRUE]",
  n_replicates = ncol(rcert$repweights$weights),
  scale = rcert$scale,
  rscales = unique(rcert$rscales),
  degf = degf(rcert),
  svymean_api00 = jkn_stat(svymean(~api00, rcert), rcert),
  svytotal_enroll = jkn_stat(svytotal(~enroll, rcert), rcert),
  svymean_api00_mse = jkn_stat(svymean(~api00, rcert_mse), rcert_mse),
  svyby_api00_awards = by_entry(svyby(~api00, ~awards, rcert, svymean)),
  svyciprop_beta = ciprop(~I(sch.wide == "Yes"), rcert, "beta"),
  svyciprop_logit = ciprop(~I(sch.wide == "Yes"), rcert, "logit"),
  svyciprop_logit_mse = ciprop(~I(sch.wide == "Yes"), rcert_mse, "logit"),
  linearisation_svymean_api00 = stat_entry(svymean(~api00, dcert), dcert))

options(survey.lonely.psu = "average")
lone <- read.csv(file.path(DATA_DIR, "lonely_apiclus1.csv"))
lone$hi <- ifelse(lone$api00 > 750, "hi", "lo")
dlone <- svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lone)
dclus2_lonely <- svydesign(id = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + I(fpc2 * 2), data = apiclus2)
lonely_average <- list(
  design = "options(survey.lonely.psu = 'average'); lone <- read.csv('lonely_apiclus1.csv'); lone$hi <- ifelse(lone$api00 > 750, 'hi', 'lo'); svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lone)  (domain 'hi' has no row in the lonely stratum C)",
  svyby_api00_hi = by_entry(svyby(~api00, ~hi, dlone, svymean)),
  svyby_enroll_hi = by_entry(svyby(~enroll, ~hi, dlone, svytotal)),
  svymean_api00 = stat_entry(svymean(~api00, dlone), dlone),
  svyciprop_E_by_hi = ciprop_by(~I(stype == "E"), ~hi, dlone, "logit"),
  stage2 = list(
    design = "svydesign(id = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + I(fpc2 * 2), data = apiclus2)  (districts with one sampled school out of two are lonely at stage 2)",
    svymean_api00_se = as.numeric(SE(svymean(~api00, dclus2_lonely)))))

write_reference(list(script = "tests/analysis/r/departures.R", domain_df = domain_df,
                     beta_na = beta_na, jkn_certainty = jkn_certainty,
                     lonely_average = lonely_average),
                "api_h_departures.json")
