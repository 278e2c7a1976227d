# Reference values for design-based regression (key drivers): svyglm, linear and logistic
# (quasibinomial), on stratified, clustered, two-stage and raked api designs, with missing
# values.  Writes tests/analysis/data/api_i_svyglm.json.
# Run from the repository root:  Rscript tests/analysis/r/svyglm.R
source(file.path("tests", "analysis", "r", "common.R"))
data(api)

glm_entry <- function(call, fit) {
  s <- summary(fit)$coefficients
  refit <- eval(bquote(svyglm(.(formula(fit)), fit$survey.design, family = .(fit$family),
                              deff = TRUE)))
  list(call = call, terms = rownames(s), coefficient = as.numeric(s[, 1]),
       se = as.numeric(s[, 2]), t = as.numeric(s[, 3]), p = as.numeric(s[, 4]),
       df_residual = fit$df.residual, degf = degf(fit$survey.design),
       vcov = unname(lapply(seq_len(nrow(vcov(fit))), function(i) as.numeric(vcov(fit)[i, ]))),
       n = length(fit$residuals), deff = as.numeric(diag(attr(refit, "deff"))))
}

dstrat_clus <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apistrat, nest = TRUE)
list2env(api_designs(apistrat, apiclus1, apiclus2), environment())  # dstrat, dclus1, dclus2, rclus1

out <- list(
  script = "tests/analysis/r/svyglm.R",
  designs = c(API_DESIGN_CALLS, list(
    dstrat_clus = "svydesign(id = ~dnum, strata = ~stype, weights = ~pw, data = apistrat, nest = TRUE)")),
  linear_dstrat = glm_entry("svyglm(api00 ~ ell + meals + mobility, dstrat)",
                            svyglm(api00 ~ ell + meals + mobility, dstrat)),
  linear_dstrat_clus = glm_entry("svyglm(api00 ~ ell + meals + mobility, dstrat_clus)",
                                 svyglm(api00 ~ ell + meals + mobility, dstrat_clus)),
  linear_dclus2 = glm_entry("svyglm(api00 ~ ell + meals + mobility, dclus2)",
                            svyglm(api00 ~ ell + meals + mobility, dclus2)),
  linear_dclus1_na = glm_entry("svyglm(api00 ~ ell + acs.k3, dclus1)  (acs.k3 missing for 39 rows)",
                               svyglm(api00 ~ ell + acs.k3, dclus1)),
  linear_rclus1 = glm_entry("svyglm(api00 ~ ell + meals, rclus1)", svyglm(api00 ~ ell + meals, rclus1)),
  logistic_dstrat = glm_entry("svyglm(I(sch.wide == 'Yes') ~ ell + meals, dstrat, family = quasibinomial())",
                              svyglm(I(sch.wide == "Yes") ~ ell + meals, dstrat, family = quasibinomial())),
  logistic_dclus2 = glm_entry("svyglm(I(sch.wide == 'Yes') ~ ell + meals, dclus2, family = quasibinomial())",
                              svyglm(I(sch.wide == "Yes") ~ ell + meals, dclus2, family = quasibinomial())),
  logistic_rclus1 = glm_entry("svyglm(I(sch.wide == 'Yes') ~ ell + meals, rclus1, family = quasibinomial())",
                              svyglm(I(sch.wide == "Yes") ~ ell + meals, rclus1, family = quasibinomial())))
options(survey.lonely.psu = "average")
lone <- read.csv(file.path(DATA_DIR, "lonely_apiclus1.csv"))
dlone <- svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lone)
out$linear_lonely_average <- glm_entry(
  "options(survey.lonely.psu = 'average'); svyglm(api00 ~ enroll, svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = read.csv('lonely_apiclus1.csv')))",
  svyglm(api00 ~ enroll, dlone))
options(survey.lonely.psu = "fail")
write_reference(out, "api_i_svyglm.json")
