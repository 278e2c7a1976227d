# Reference values for the Rao-Scott adjusted chi-square test of a two-way table:
# svychisq(~a + b, design, statistic = "F").  Writes tests/analysis/data/api_j_svychisq.json.
# Run from the repository root:  Rscript tests/analysis/r/svychisq.R
source(file.path("tests", "analysis", "r", "common.R"))
data(api)

chisq_entry <- function(call, test) {
  list(call = call, statistic = as.numeric(test$statistic), ndf = as.numeric(test$parameter[1]),
       ddf = as.numeric(test$parameter[2]), p_value = as.numeric(test$p.value))
}

apiclus1$band <- cut(apiclus1$api00, c(0, 600, 700, 1000), labels = c("low", "mid", "high"))
apiclus1$small_k3 <- ifelse(apiclus1$acs.k3 > 20, "yes", "no")
list2env(api_designs(apistrat, apiclus1, apiclus2), environment())  # dstrat, dclus1, dclus2, rclus1

out <- list(
  script = "tests/analysis/r/svychisq.R",
  data = "apiclus1$band <- cut(apiclus1$api00, c(0, 600, 700, 1000), labels = c('low', 'mid', 'high')); apiclus1$small_k3 <- ifelse(apiclus1$acs.k3 > 20, 'yes', 'no')  (missing where acs.k3 is)",
  designs = API_DESIGN_CALLS,
  dstrat_schwide_stype = chisq_entry("svychisq(~sch.wide + stype, dstrat, statistic = 'F')",
                                     svychisq(~sch.wide + stype, dstrat, statistic = "F")),
  dclus1_band_stype = chisq_entry("svychisq(~band + stype, dclus1, statistic = 'F')",
                                  svychisq(~band + stype, dclus1, statistic = "F")),
  dclus1_stype_awards = chisq_entry("svychisq(~stype + awards, dclus1, statistic = 'F')",
                                    svychisq(~stype + awards, dclus1, statistic = "F")),
  dclus1_small_k3_schwide_na = chisq_entry("svychisq(~small_k3 + sch.wide, dclus1, statistic = 'F')",
                                           svychisq(~small_k3 + sch.wide, dclus1, statistic = "F")),
  dclus2_stype_schwide = chisq_entry("svychisq(~stype + sch.wide, dclus2, statistic = 'F')",
                                     svychisq(~stype + sch.wide, dclus2, statistic = "F")),
  rclus1_band_stype = chisq_entry("svychisq(~band + stype, rclus1, statistic = 'F')",
                                  svychisq(~band + stype, rclus1, statistic = "F")))
options(survey.lonely.psu = "average")
lone <- read.csv(file.path(DATA_DIR, "lonely_apiclus1.csv"))
lone$hi <- ifelse(lone$api00 > 750, "hi", "lo")
dlone <- svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lone)
out$lonely_average_hi_stype <- chisq_entry(
  "options(survey.lonely.psu = 'average'); lone$hi <- ifelse(lone$api00 > 750, 'hi', 'lo'); svychisq(~hi + stype, svydesign(id = ~dnum, strata = ~lstrat, weights = ~pw, data = lone), statistic = 'F')",
  svychisq(~hi + stype, dlone, statistic = "F"))
options(survey.lonely.psu = "fail")
write_reference(out, "api_j_svychisq.json")
