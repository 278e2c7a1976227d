# Reference values for weight diagnostics: Kish's deff n sum(w^2) / sum(w)^2, min, max, CV
# (population SD / mean) of the raked dclus1 weights, and the share of rows trimmed by
# trimWeights.  Writes tests/analysis/data/api_k_diagnostics.json.
# Run from the repository root:  Rscript tests/analysis/r/diagnostics.R
source(file.path("tests", "analysis", "r", "common.R"))
data(api)

rclus1 <- api_designs(apistrat, apiclus1, apiclus2)$rclus1
lower <- 0.8 * mean(weights(rclus1))
upper <- 1.5 * mean(weights(rclus1))
tclus1 <- trimWeights(rclus1, lower = lower, upper = upper)

diagnose <- function(w, share) {
  n <- length(w)
  list(n = n, total = sum(w), minimum = min(w), maximum = max(w), mean = mean(w),
       cv = sqrt(mean((w - mean(w))^2)) / mean(w), kish_deff = n * sum(w^2) / sum(w)^2,
       n_effective = sum(w)^2 / sum(w^2), share_trimmed = share)
}
w <- weights(rclus1)
out <- list(
  script = "tests/analysis/r/diagnostics.R",
  design = "rclus1 <- rake(svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc), list(~stype, ~sch.wide), list(pop.types, pop.schwide))",
  trim_call = "trimWeights(rclus1, lower = 0.8 * mean(weights(rclus1)), upper = 1.5 * mean(weights(rclus1)))",
  raked = diagnose(w, NULL),
  trimmed = diagnose(weights(tclus1), mean(w < lower | w > upper)),
  trimmed_svymean_api00 = stat_entry(svymean(~api00, tclus1), tclus1))
write_reference(out, "api_k_diagnostics.json")
