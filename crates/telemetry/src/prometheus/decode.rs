//! The query API's JSON answer decoded in one pass as it is read: label strings interned as they go by, each
//! sample straight into a row, so an answer of tens of megabytes is never held whole, nor a second time as maps of
//! owned strings.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

use super::super::labels::{LabelTable, Labels};
use super::super::openmetrics::parse_number;
use super::super::query::Row;

/// The answer's envelope and its decoded result.
#[derive(Default)]
pub(super) struct Envelope<D = Data> {
    pub status: String,
    pub error_type: Option<String>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    /// VictoriaMetrics marks answers missing some storage nodes.
    pub is_partial: bool,
    pub data: Option<D>,
}

/// `data`: a vector's samples as rows, a matrix's series with their points.
#[derive(Default)]
pub(super) struct Data {
    pub result_type: String,
    pub rows: Vec<Row>,
    pub series: Vec<Series>,
}

/// One series of a matrix.
pub(super) struct Series {
    /// `__name__`, which a range selector keeps and an aggregation drops.
    pub name: Option<String>,
    /// The other labels.
    pub labels: Labels,
    /// (unix seconds, value).
    pub points: Vec<(f64, f64)>,
}

/// Decodes a whole answer from `reader`.
pub(super) fn envelope(reader: impl std::io::Read) -> Result<Envelope, serde_json::Error> {
    let mut strings = LabelTable::default();
    let mut decoder = serde_json::Deserializer::from_reader(reader);
    let mut read = EnvelopeSeed { strings: &mut strings }.deserialize(&mut decoder)?;
    decoder.end()?;
    let data = read.data.take().map(|data| data.finish(strings));
    let Envelope { status, error_type, error, warnings, infos, is_partial, data: _ } = read;
    Ok(Envelope { status, error_type, error, warnings, infos, is_partial, data })
}

/// Label pairs as numbers into the answer's [`LabelTable`], sorted by name.
type Pairs = Box<[(u32, u32)]>;

/// `data` as read, before its strings are frozen.
#[derive(Default)]
struct ReadData {
    result_type: String,
    samples: Vec<(Pairs, f64)>,
    series: Vec<ReadSeries>,
}

struct ReadSeries {
    name: Option<u32>,
    labels: Pairs,
    points: Vec<(f64, f64)>,
}

impl ReadData {
    /// Rows and series sharing the answer's frozen strings.
    fn finish(self, table: LabelTable) -> Data {
        let name = |id: u32| table.text(id).to_owned();
        let series: Vec<_> = self.series.into_iter().map(|s| (s.name.map(name), s.labels, s.points)).collect();
        let strings = table.finish();
        let labels = |pairs| Labels::new(strings.clone(), pairs);
        Data {
            result_type: self.result_type,
            rows: self.samples.into_iter().map(|(pairs, value)| Row { labels: labels(pairs), value }).collect(),
            series: (series.into_iter())
                .map(|(name, pairs, points)| Series { name, labels: labels(pairs), points })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum EnvelopeKey {
    #[serde(rename = "status")]
    Status,
    #[serde(rename = "data")]
    Data,
    #[serde(rename = "errorType")]
    ErrorType,
    #[serde(rename = "error")]
    Error,
    #[serde(rename = "warnings")]
    Warnings,
    #[serde(rename = "infos")]
    Infos,
    #[serde(rename = "isPartial")]
    IsPartial,
    #[serde(other)]
    Other,
}

struct EnvelopeSeed<'s> {
    strings: &'s mut LabelTable,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_> {
    type Value = Envelope<ReadData>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_> {
    type Value = Envelope<ReadData>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a query API answer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope::default();
        while let Some(key) = map.next_key()? {
            match key {
                EnvelopeKey::Status => envelope.status = map.next_value()?,
                EnvelopeKey::Data => {
                    envelope.data = map.next_value_seed(Optional(DataSeed { strings: &mut *self.strings }))?;
                }
                EnvelopeKey::ErrorType => envelope.error_type = map.next_value()?,
                EnvelopeKey::Error => envelope.error = map.next_value()?,
                EnvelopeKey::Warnings => envelope.warnings = map.next_value::<Option<_>>()?.unwrap_or_default(),
                EnvelopeKey::Infos => envelope.infos = map.next_value::<Option<_>>()?.unwrap_or_default(),
                EnvelopeKey::IsPartial => envelope.is_partial = map.next_value()?,
                EnvelopeKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(envelope)
    }
}

/// `null` or what `S` decodes.
struct Optional<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Optional<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or a value")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Some)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum DataKey {
    #[serde(rename = "resultType")]
    ResultType,
    #[serde(rename = "result")]
    Result,
    #[serde(other)]
    Other,
}

struct DataSeed<'s> {
    strings: &'s mut LabelTable,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = ReadData;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ReadData, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = ReadData;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the answer's data")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadData, A::Error> {
        let mut data = ReadData::default();
        while let Some(key) = map.next_key()? {
            match key {
                DataKey::ResultType => data.result_type = map.next_value()?,
                // A scalar or string result is `[t, "v"]`, not a list of series: skipped, so that the caller
                // names the result type it did not expect rather than a decoding error.
                DataKey::Result if matches!(data.result_type.as_str(), "scalar" | "string") => {
                    map.next_value::<IgnoredAny>()?;
                }
                DataKey::Result => {
                    map.next_value_seed(ResultSeed { strings: &mut *self.strings, data: &mut data })?;
                }
                DataKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(data)
    }
}

/// The result list: each sample into `rows`, each series with points into `series`.
struct ResultSeed<'s, 'd> {
    strings: &'s mut LabelTable,
    data: &'d mut ReadData,
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of samples or series")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element_seed(ElementSeed { strings: &mut *self.strings })? {
            match element {
                Element::Sample(labels, value) => self.data.samples.push((labels, value)),
                Element::Series(series) => self.data.series.push(series),
            }
        }
        Ok(())
    }
}

enum Element {
    Sample(Pairs, f64),
    Series(ReadSeries),
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum ElementKey {
    Metric,
    Value,
    Values,
    #[serde(other)]
    Other,
}

/// `{"metric": {...}, "value": [t, "v"]}` or `{"metric": {...}, "values": [[t, "v"], ...]}`.
struct ElementSeed<'s> {
    strings: &'s mut LabelTable,
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_> {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Element, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed<'_> {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sample or a series with a metric")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let (mut name, mut labels, mut value, mut points) = (None, Pairs::default(), None, None);
        while let Some(key) = map.next_key()? {
            match key {
                ElementKey::Metric => {
                    (name, labels) = map.next_value_seed(MetricSeed { strings: &mut *self.strings })?;
                }
                ElementKey::Value => value = Some(map.next_value::<Point>()?.1),
                ElementKey::Values => points = Some(map.next_value::<Vec<Point>>()?),
                ElementKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (value, points) {
            (Some(value), _) => Ok(Element::Sample(labels, value)),
            (None, Some(points)) => {
                let points = points.into_iter().map(|Point(t, v)| (t, v)).collect();
                Ok(Element::Series(ReadSeries { name, labels, points }))
            }
            (None, None) => Err(de::Error::missing_field("value")),
        }
    }
}

/// A metric's labels, interned and sorted by name, `__name__` apart.
struct MetricSeed<'s> {
    strings: &'s mut LabelTable,
}

type Metric = (Option<u32>, Pairs);

impl<'de> DeserializeSeed<'de> for MetricSeed<'_> {
    type Value = Metric;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Metric, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetricSeed<'_> {
    type Value = Metric;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of label names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Metric, A::Error> {
        let (mut name, mut labels) = (None, Vec::new());
        while let Some(label) = map.next_key_seed(Interned(&mut *self.strings))? {
            let value = map.next_value_seed(Interned(&mut *self.strings))?;
            if self.strings.text(label) == "__name__" {
                name = Some(value);
            } else {
                labels.push((label, value));
            }
        }
        self.strings.sort(&mut labels);
        Ok((name, labels.into_boxed_slice()))
    }
}

/// A string as its number in the answer's table, without an owned copy in between.
struct Interned<'s>(&'s mut LabelTable);

impl<'de> DeserializeSeed<'de> for Interned<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Interned<'_> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<u32, E> {
        self.0.id(s).map_err(E::custom)
    }
}

/// `[t, "v"]`: a time in unix seconds and a value written as text (`NaN`, `+Inf` included).
struct Point(f64, f64);

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Point, D::Error> {
        deserializer.deserialize_seq(PointVisitor)
    }
}

struct PointVisitor;

impl<'de> Visitor<'de> for PointVisitor {
    type Value = Point;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [time, \"value\"] pair")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Point, A::Error> {
        let time: f64 = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let value = seq.next_element_seed(NumberText)?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(3, &self));
        }
        Ok(Point(time, value))
    }
}

/// A sample value: Prometheus writes numbers as strings.
struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = f64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<f64, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberText {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number written as a string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<f64, E> {
        parse_number(s).ok_or_else(|| E::custom(format!("sample value {s:?} is not a number")))
    }
}

#[cfg(test)]
mod tests {
    use super::envelope;

    #[test]
    fn a_vector_decodes_into_rows_with_sorted_unescaped_labels() {
        let answer = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"x","b":"2","a":"q\"1"},"value":[1,"3.5"]},{"metric":{},"value":[1,"NaN"]}]}}"#;
        let data = envelope(answer.as_bytes()).unwrap().data.unwrap();
        assert_eq!((data.result_type.as_str(), data.rows.len(), data.series.len()), ("vector", 2, 0));
        assert_eq!(data.rows[0].labels.iter().collect::<Vec<_>>(), [("a", "q\"1"), ("b", "2")]);
        assert_eq!(data.rows[0].value, 3.5);
        assert!(data.rows[1].value.is_nan() && data.rows[1].labels.is_empty());
    }

    #[test]
    fn a_matrix_keeps_each_series_name_and_points() {
        let answer = r#"{"status":"success","warnings":["w"],"data":{"result":[
            {"values":[[10,"1"],[40.5,"+Inf"]],"metric":{"z":"1","__name__":"up"}}],"resultType":"matrix"}}"#;
        let envelope = envelope(answer.as_bytes()).unwrap();
        assert_eq!(envelope.warnings, ["w"]);
        let data = envelope.data.unwrap();
        assert_eq!(data.result_type, "matrix");
        let series = &data.series[0];
        assert_eq!(series.name.as_deref(), Some("up"));
        assert_eq!(series.labels.iter().collect::<Vec<_>>(), [("z", "1")]);
        assert_eq!(series.points, [(10.0, 1.0), (40.5, f64::INFINITY)]);
    }

    #[test]
    fn bad_samples_and_other_result_types() {
        let vector =
            |result: &str| format!(r#"{{"status":"success","data":{{"resultType":"vector","result":{result}}}}}"#);
        let bad = envelope(vector(r#"[{"metric":{},"value":[1,"many"]}]"#).as_bytes()).err().unwrap();
        assert!(bad.to_string().contains("sample value \"many\" is not a number"), "{bad}");
        assert!(envelope(vector(r#"[{"metric":{}}]"#).as_bytes()).is_err(), "a sample needs a value");
        assert!(envelope(vector(r#"[{"metric":{},"value":[1,"2"]}] trailing"#).as_bytes()).is_err());
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
        let data = envelope(scalar.as_bytes()).unwrap().data.unwrap();
        assert_eq!((data.result_type.as_str(), data.rows.len()), ("scalar", 0));
        let failed =
            envelope(r#"{"status":"error","errorType":"bad_data","error":"parse error","data":null}"#.as_bytes());
        let failed = failed.unwrap();
        assert_eq!((failed.status.as_str(), failed.error_type.as_deref()), ("error", Some("bad_data")));
        assert!(failed.data.is_none());
    }
}
