# Reference values for tests/web/test_sample_design.py: the declared designs of
# surveyapp.services.sample_design, built in R's survey package on streets.csv (44 responses,
# district 310109 samples 3 of its 5 streets, 310110 both of its 2).
# Run from this folder: Rscript reference.R  (writes reference.json; survey 4.x)
library(survey)
library(jsonlite)
d <- read.csv("streets.csv", colClasses = c(response_id = "character", district = "character",
                                            street = "character"))
d$design_weight <- 1
d$district_street <- paste(d$district, d$street, sep = "/")
d$residents_in_street <- Inf
options(survey.lonely.psu = "adjust")
calls <- list(
  street_psu = "svydesign(ids = ~street + response_id, strata = ~district, fpc = ~streets_in_district + residents_in_street, weights = ~design_weight, data = d, nest = TRUE)",
  district_street = "svydesign(ids = ~1, strata = ~district_street, weights = ~design_weight, data = d)",
  district = "svydesign(ids = ~1, strata = ~district, weights = ~design_weight, data = d)"
)
out <- list()
for (name in names(calls)) {
  des <- eval(parse(text = calls[[name]]))
  whole <- svymean(~index, des)
  by_district <- svyby(~index, ~district, des, svymean)
  by_street <- svyby(~index, ~street, des, svymean)
  out[[name]] <- list(
    call = calls[[name]],
    mean = unname(coef(whole)), se = unname(SE(whole)),
    district = list(level = as.character(by_district$district), mean = unname(coef(by_district)),
                    se = unname(SE(by_district))),
    street = list(level = as.character(by_street$street), mean = unname(coef(by_street)),
                  se = unname(SE(by_street))))
}
out$r_version <- R.version.string
out$survey_version <- as.character(packageVersion("survey"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "reference.json")
