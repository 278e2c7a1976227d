# Reference values for analysis/selection.py (issue 15: sampling plans): PPS inclusion
# probabilities and Brewer draws from R's sampling package.
#
# Run from the repository root:  Rscript tests/analysis/r/selection.R
# Needs R with the sampling and jsonlite packages (apt-get install r-cran-sampling
# r-cran-jsonlite). Writes tests/analysis/data/selection.json; every block records its R call.
# For a draw, the uniforms UPbrewer consumed are recorded too (set.seed(s); runif(n) gives the
# same numbers UPbrewer(pik) reads after set.seed(s)), so Python replays the same draw.
suppressMessages({library(sampling); library(jsonlite)})
out <- list(meta = list(R_version = R.version.string,
                        sampling_version = as.character(packageVersion("sampling")),
                        generated = format(Sys.time(), tz = "UTC", usetz = TRUE),
                        script = "tests/analysis/r/selection.R"))
# street sizes: one very large street (a certainty unit at n = 4) and ordinary ones
sizes <- list(
  plain = c(52000, 31000, 87000, 44000, 66000, 29000, 73000, 38000, 95000, 41000),
  certainty = c(400000, 31000, 87000, 44000, 66000, 29000, 73000, 38000, 95000, 41000, 12000),
  ties = c(10, 10, 10, 10, 10, 10))
ns <- list(plain = 4L, certainty = 4L, ties = 3L)
blocks <- list()
for (name in names(sizes)) {
  x <- sizes[[name]]; n <- ns[[name]]
  pik <- inclusionprobabilities(x, n)
  draws <- list()
  for (seed in c(1L, 20261202L, 7L)) {
    set.seed(seed); u <- runif(sum(pik > 1e-6 & pik < 1 - 1e-6))
    set.seed(seed); s <- UPbrewer(pik)
    draws[[length(draws) + 1]] <- list(seed = seed, uniforms = u, selected = which(s == 1))
  }
  blocks[[name]] <- list(
    call = sprintf("pik <- inclusionprobabilities(c(%s), %d); set.seed(seed); UPbrewer(pik)",
                   paste(x, collapse = ", "), n),
    sizes = x, n = n, pik = pik, brewer = draws)
}
out$blocks <- blocks
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/analysis/data/selection.json")
