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
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rclus1 <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))

out <- list(
  script = "tests/analysis/r/svychisq.R",
  data = "apiclus1$band <- cut(apiclus1$api00, c(0, 600, 700, 1000), labels = c('low', 'mid', 'high')); apiclus1$small_k3 <- ifelse(apiclus1$acs.k3 > 20, 'yes', 'no')  (missing where acs.k3 is)",
  designs = list(
    dstrat = "svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)",
    dclus1 = "svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)",
    dclus2 = "svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)",
    rclus1 = "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))  [default control]"),
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
write_reference(out, "api_j_svychisq.json")
