# Shared helpers for the scripts that write R survey reference data into tests/analysis/data.
# Run each script from the repository root:  Rscript tests/analysis/r/<script>.R
# Needs R with the survey and jsonlite packages (apt-get install r-base-core r-cran-survey r-cran-jsonlite).
suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

DATA_DIR <- file.path("tests", "analysis", "data")
dir.create(DATA_DIR, showWarnings = FALSE, recursive = TRUE)

# Doubles as text that reads back to the same double: integers as integers, others with 17 digits.
exact_text <- function(x) {
  out <- ifelse(is.na(x), NA_character_,
                ifelse(x == round(x) & abs(x) < 1e15, sprintf("%.0f", x), sprintf("%.17g", x)))
  out
}

write_exact_csv <- function(df, name) {
  for (col in names(df)) {
    if (is.factor(df[[col]])) df[[col]] <- as.character(df[[col]])
    if (is.double(df[[col]])) df[[col]] <- exact_text(df[[col]])
  }
  write.csv(df, file.path(DATA_DIR, name), row.names = FALSE, na = "")
}

meta <- function() {
  list(R_version = R.version.string,
       survey_version = as.character(packageVersion("survey")),
       generated = format(Sys.time(), "%Y-%m-%d %H:%M:%S UTC", tz = "UTC"))
}

# Write a list as JSON with every double at full precision (digits = NA).
write_reference <- function(x, name) {
  write_json(c(list(meta = meta()), x), file.path(DATA_DIR, name),
             auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null", na = "null")
}

# One svystat (svymean/svytotal/svyratio ...) as estimate, se, variance and degf.
stat_entry <- function(stat, design) {
  list(estimate = unname(coef(stat)), se = unname(SE(stat)),
       variance = unname(diag(as.matrix(vcov(stat)))), degf = degf(design))
}
