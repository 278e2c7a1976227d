# Shared helpers for the scripts that write R survey reference data into tests/analysis/data.
# Run each script from the repository root:  Rscript tests/analysis/r/<script>.R
# Needs R with the survey package (apt-get install r-base-core r-cran-survey).
suppressPackageStartupMessages(library(survey))

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

# JSON by hand: jsonlite prints at most 15 significant digits; doubles here keep all 17.
# Named lists become objects, length-one vectors scalars, longer vectors arrays; NA/NaN -> null.
to_json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", indent = inner)
    if (is.null(names(x)))
      return(paste0("[\n", inner, paste(items, collapse = paste0(",\n", inner)), "\n", indent, "]"))
    keys <- vapply(names(x), function(k) to_json(k), "")
    return(paste0("{\n", inner, paste(keys, items, sep = ": ", collapse = paste0(",\n", inner)),
                  "\n", indent, "}"))
  }
  if (is.factor(x)) x <- as.character(x)
  scalar <- function(v) {
    if (is.na(v)) return("null")
    if (is.character(v)) return(paste0('"', gsub('"', '\\\\"', gsub("\\\\", "\\\\\\\\", v)), '"'))
    if (is.logical(v)) return(if (v) "true" else "false")
    if (is.infinite(v)) return("null")
    exact_text(v)
  }
  values <- vapply(as.vector(x), scalar, "")
  if (length(values) == 1 && is.null(dim(x))) values else paste0("[", paste(values, collapse = ", "), "]")
}

# Write a list, headed by the R and survey versions, as JSON at full double precision.
write_reference <- function(x, name) {
  writeLines(to_json(c(list(meta = meta()), x)), file.path(DATA_DIR, name))
}

# One svystat (svymean/svytotal/svyratio ...) as estimate, se, variance and degf.
stat_entry <- function(stat, design) {
  list(estimate = as.numeric(coef(stat)), se = as.numeric(SE(stat)),
       variance = as.numeric(diag(as.matrix(vcov(stat)))), degf = degf(design))
}

# The api designs of R survey's own examples (the pw of apiclus1 as shipped), built on the
# data given, and a description of each for the JSON files.
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
api_designs <- function(apistrat, apiclus1, apiclus2) {
  dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
  list(dstrat = svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc),
       dclus1 = dclus1,
       dclus2 = svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2),
       rclus1 = rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide)))
}
API_DESIGN_CALLS <- list(
  dstrat = "svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)",
  dclus1 = "svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)",
  dclus2 = "svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)",
  rclus1 = "rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))  [default control; pop.types E=4421 H=755 M=1018, pop.schwide No=1072 Yes=5122]")
