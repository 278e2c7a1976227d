# Reference values of the basic estimators on R survey's api designs: means, totals, domain
# means, proportions, variances (api_a_dstrat, api_b_dclus1, api_c_dclus2), raking and
# post-stratification (api_d_rake, api_e_poststrat), jackknife replicates (api_f_replicate)
# and the lonely-PSU options (api_g_lonely_psu).  These files were first written by a script
# kept outside the repository; this one reproduces their values.
# Run from the repository root:  Rscript tests/analysis/r/basics.R
source(file.path("tests", "analysis", "r", "common.R"))
data(api)

NOTE <- paste(
  "CIs named 'wald_normal' use qnorm(0.975) (confint() default for svystat); 'wald_t_degf' use",
  "qt(0.975, degf(design)). svyciprop uses df=degf(design) by default. deff = svymean(...,",
  "deff=TRUE): design variance / SRS-without-replacement variance (vsrs = svyvar*(N-n)/(N*n),",
  "N = sum of weights); deff_replace uses deff='replace' (vsrs = svyvar/n).")

interval <- function(ci) list(lower = as.numeric(ci[1]), upper = as.numeric(ci[2]))

total_entry <- function(formula, design, ...) {
  s <- svytotal(formula, design, deff = TRUE, ...)
  list(estimate = as.numeric(coef(s)), se = as.numeric(SE(s)), variance = as.numeric(vcov(s)),
       deff = as.numeric(deff(s)), ci95_wald_normal = interval(confint(s)))
}

mean_entry <- function(formula, design) {
  s <- svymean(formula, design, deff = TRUE)
  r <- svymean(formula, design, deff = "replace")
  list(estimate = as.numeric(coef(s)), se = as.numeric(SE(s)), variance = as.numeric(vcov(s)),
       deff = as.numeric(deff(s)), deff_replace = as.numeric(deff(r)), degf = degf(design),
       ci95_wald_normal = interval(confint(s)),
       ci95_wald_t_degf = interval(confint(s, df = degf(design))))
}

by_entry <- function(design, with_deff = TRUE) {
  res <- svyby(~api00, ~stype, design, svymean, deff = with_deff)
  out <- lapply(seq_len(nrow(res)), function(i) {
    e <- list(estimate = as.numeric(coef(res)[i]), se = as.numeric(SE(res)[i]))
    if (with_deff) e$deff <- as.numeric(deff(res)[i])
    e
  })
  names(out) <- as.character(res$stype)
  out
}

ciprop_entries <- function(design) {
  methods <- c("logit", "likelihood", "asin", "beta", "mean", "xlogit")
  out <- lapply(methods, function(m) {
    p <- svyciprop(~I(sch.wide == "Yes"), design, method = m)
    ci <- confint(p)
    list(estimate = as.numeric(coef(p)), se = as.numeric(SE(p)), lower = as.numeric(ci[1]),
         upper = as.numeric(ci[2]), df = degf(design))
  })
  names(out) <- methods
  out
}

list2env(api_designs(apistrat, apiclus1, apiclus2), environment())  # dstrat, dclus1, dclus2, rclus1
dstrat_nofpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat)
dclus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
dclus2_nofpc <- svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
meta_note <- function(x) { x$note <- NOTE; x }
write_basic <- function(x, name) {
  writeLines(to_json(c(list(meta = meta_note(meta()), script = "tests/analysis/r/basics.R"), x)),
             file.path(DATA_DIR, name))
}

write_basic(list(dstrat = list(
  design = "svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)",
  design_nofpc = "svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat)",
  n = nrow(apistrat),
  svymean_api00 = mean_entry(~api00, dstrat),
  svymean_api00_nofpc = mean_entry(~api00, dstrat_nofpc),
  svytotal_enroll = total_entry(~enroll, dstrat),
  svytotal_enroll_nofpc = total_entry(~enroll, dstrat_nofpc),
  svyby_api00_stype = by_entry(dstrat),
  svyby_api00_stype_nofpc = by_entry(dstrat_nofpc),
  svyciprop_schwide_yes = ciprop_entries(dstrat),
  svyciprop_schwide_yes_nofpc = ciprop_entries(dstrat_nofpc),
  svyvar_api00 = {
    v <- svyvar(~api00, dstrat)
    list(estimate = as.numeric(coef(v)), se = as.numeric(SE(v)), variance = as.numeric(vcov(v)))
  })), "api_a_dstrat.json")

write_basic(list(dclus1 = list(
  design = "svydesign(id=~dnum, weights=~pw, data=apiclus1, fpc=~fpc)",
  design_nofpc = "svydesign(id=~dnum, weights=~pw, data=apiclus1)",
  n = nrow(apiclus1), n_psu = length(unique(apiclus1$dnum)),
  svymean_api00 = mean_entry(~api00, dclus1),
  svymean_api00_nofpc = mean_entry(~api00, dclus1_nofpc),
  svyby_api00_stype = by_entry(dclus1),
  svyby_api00_stype_nofpc = by_entry(dclus1_nofpc),
  svytotal_enroll = total_entry(~enroll, dclus1),
  svytotal_enroll_nofpc = total_entry(~enroll, dclus1_nofpc),
  svyciprop_schwide_yes = ciprop_entries(dclus1))), "api_b_dclus1.json")

write_basic(list(dclus2 = list(
  design = "svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2)  (weights implied by fpc)",
  design_nofpc = "svydesign(id=~dnum+snum, weights=~pw, data=apiclus2)  (with-replacement PSUs: only stage 1 contributes)",
  n = nrow(apiclus2), n_psu = length(unique(apiclus2$dnum)),
  implied_weights_equal_pw = isTRUE(all.equal(as.numeric(weights(dclus2)), apiclus2$pw)),
  max_abs_diff_implied_weights_vs_pw = max(abs(weights(dclus2) - apiclus2$pw)),
  svymean_api00 = mean_entry(~api00, dclus2),
  svymean_api00_nofpc = mean_entry(~api00, dclus2_nofpc),
  svytotal_enroll_narm = total_entry(~enroll, dclus2, na.rm = TRUE),
  svyby_api00_stype = by_entry(dclus2))), "api_c_dclus2.json")

rake_block <- function(design) {
  list(svymean_api00 = mean_entry(~api00, design), svyby_api00_stype = by_entry(design),
       svytotal_enroll = total_entry(~enroll, design),
       weighted_margin_stype = as.list(svytable(~stype, design)),
       weighted_margin_schwide = as.list(svytable(~sch.wide, design)),
       sum_weights = sum(weights(design)))
}
rclus1_tight <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                     control = list(maxit = 1000, epsilon = 1e-13))
fixed <- apiclus1
fixed$w_rake <- weights(rclus1)
dfixed <- svydesign(id = ~dnum, weights = ~w_rake, fpc = ~fpc, data = fixed)
named <- function(df) setNames(as.list(df$Freq), as.character(df[[1]]))
write_basic(list(rake_rclus1 = list(
  call = "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))  [default control: maxit=10, epsilon=1]",
  call_tight = "rake(..., control=list(maxit=1000, epsilon=1e-13))  [epsilon<1 is relative to sum of weights]",
  convergence_rule = "R rake() stops when max |change| of the joint weighted table of all margin variables between sweeps < epsilon (absolute if epsilon>=1). Variance uses the residuals of the post-strata of the final sweep only.",
  pop_types = named(pop.types), pop_schwide = named(pop.schwide),
  default = rake_block(rclus1), tight = rake_block(rclus1_tight),
  fixed_raked_weights_no_calibration_adjustment = list(
    design = "svydesign(id=~dnum, weights=~w_rake, fpc=~fpc), w_rake = weights(rclus1) (default control)",
    svymean_api00 = mean_entry(~api00, dfixed), svyby_api00_stype = by_entry(dfixed)))),
  "api_d_rake.json")

pclus1 <- postStratify(dclus1, ~stype, pop.types)
write_basic(list(poststrat = list(
  call = "postStratify(dclus1, ~stype, pop.types)",
  svymean_api00 = mean_entry(~api00, pclus1), svyby_api00_stype = by_entry(pclus1),
  svytotal_enroll = total_entry(~enroll, pclus1))), "api_e_poststrat.json")

rep_entry <- function(design, type, mse = FALSE, with_by = TRUE) {
  r <- as.svrepdesign(design, type = type, mse = mse)
  m <- svymean(~api00, r)
  out <- list(estimate = as.numeric(coef(m)), se = as.numeric(SE(m)),
              n_replicates = ncol(r$repweights$weights))
  if (with_by) {
    out <- c(out, list(scale = r$scale, rscales = unique(r$rscales), mse = mse,
                       svyby_api00_stype = by_entry(r, with_deff = FALSE)))
  }
  out
}
write_basic(list(replicate = list(
  note = "as.svrepdesign(dclus1, type='JK1'): scale=(n-1)/n, multiplied by (1-n/N) when the design has an fpc (dclus1: (14/15)*(1-15/757)); rscales=1. mse=FALSE centres at the mean of replicates, mse=TRUE at the full-sample estimate. Bootstrap skipped (random).",
  dclus1_JK1 = rep_entry(dclus1, "JK1"), dclus1_JK1_mse = rep_entry(dclus1, "JK1", mse = TRUE),
  dclus1_nofpc_JK1 = rep_entry(dclus1_nofpc, "JK1"),
  dstrat_JKn = rep_entry(dstrat, "JKn", with_by = FALSE),
  dstrat_nofpc_JKn = rep_entry(dstrat_nofpc, "JKn", with_by = FALSE))), "api_f_replicate.json")

lone <- read.csv(file.path(DATA_DIR, "lonely_apiclus1.csv"))
lonely_block <- function(option) {
  options(survey.lonely.psu = option)
  d <- svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lone)
  if (option == "fail") {
    message <- tryCatch({ svymean(~api00, d); "no error" }, error = function(e) conditionMessage(e))
    return(list(error = message))
  }
  stat <- function(s) list(estimate = as.numeric(coef(s)), se = as.numeric(SE(s)))
  list(svymean_api00 = stat(svymean(~api00, d)), svytotal_enroll = stat(svytotal(~enroll, d)),
       svyby_api00_stype = by_entry(d, with_deff = FALSE), degf = degf(d))
}
options_list <- c("fail", "remove", "certainty", "adjust", "average")
blocks <- setNames(lapply(options_list, lonely_block), options_list)
options(survey.lonely.psu = "fail")
write_basic(list(lonely_psu = list(
  design = "lone <- apiclus1; lone$lstrat <- A if dnum in {61,135,178,197,255}; C if dnum==815; else B. svydesign(id=~dnum, strata=~lstrat, weights=~pw, data=lone)  (no fpc) Data: lonely_apiclus1.csv (written by export_api.R)",
  psus_per_stratum = as.list(tapply(lone$dnum, lone$lstrat, function(x) length(unique(x)))),
  options = blocks,
  note = "survey.adjust.domain.lonely left at its default (FALSE) for the svyby results.")),
  "api_g_lonely_psu.json")
