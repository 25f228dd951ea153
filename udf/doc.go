// Package udf will own the functions SQL calls that hopsql provides itself:
// feature transformations fitted on training datasets and PREDICT (issues 4
// and 5). It has no code yet.
package udf
