# Export R survey's shipped api samples (data(api)) as CSV for the Python tests, plus two
# derived data sets: apiclus1 with a lonely-PSU stratum column, and the raked / post-stratified
# weights of dclus1.  Run from the repository root:  Rscript tests/analysis/r/export_api.R
source(file.path("tests", "analysis", "r", "common.R"))
data(api)

write_exact_csv(apistrat, "apistrat.csv")
write_exact_csv(apiclus1, "apiclus1.csv")
write_exact_csv(apiclus2, "apiclus2.csv")

# Stratum C holds one PSU (district 815); A holds five districts, B the other nine.
lone <- apiclus1
lone$lstrat <- ifelse(lone$dnum %in% c(61, 135, 178, 197, 255), "A",
                      ifelse(lone$dnum == 815, "C", "B"))
write_exact_csv(lone[, c("cds", "snum", "dnum", "lstrat", "stype", "api00", "enroll", "pw")],
                "lonely_apiclus1.csv")

list2env(api_designs(apistrat, apiclus1, apiclus2), environment())  # dstrat, dclus1, dclus2, rclus1
rclus1_tight <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                     control = list(maxit = 1000, epsilon = 1e-13))
pclus1 <- postStratify(dclus1, ~stype, pop.types)
write_exact_csv(data.frame(snum = apiclus1$snum, dnum = apiclus1$dnum, stype = apiclus1$stype,
                           sch.wide = apiclus1$sch.wide, pw = apiclus1$pw,
                           w_rake_default = weights(rclus1), w_rake_tight = weights(rclus1_tight),
                           w_poststrat_stype = weights(pclus1)),
                "api_rclus1_weights.csv")
