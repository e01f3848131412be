//! Topic routing: a trie over dot-separated binding keys with `*` (exactly one word) and
//! `#` (zero or more words), as in AMQP 0-9-1 topic exchanges.
//!
//! Each node maps a literal word to a child, plus optional `*` and `#` children. Matching
//! walks the routing key's words once per live path; `#` may absorb any number of words,
//! so it both stays on its node and moves to its children.

use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug)]
struct Node<D> {
    words: HashMap<String, Node<D>>,
    star: Option<Box<Node<D>>>,
    hash: Option<Box<Node<D>>>,
    destinations: Vec<D>,
}

impl<D> Default for Node<D> {
    fn default() -> Self {
        Node {
            words: HashMap::new(),
            star: None,
            hash: None,
            destinations: Vec::new(),
        }
    }
}

impl<D> Node<D> {
    fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.star.is_none()
            && self.hash.is_none()
            && self.destinations.is_empty()
    }
}

/// Binding keys of one topic exchange, each leading to destinations of type `D`.
#[derive(Debug)]
pub struct TopicTrie<D> {
    root: Node<D>,
}

impl<D> Default for TopicTrie<D> {
    fn default() -> Self {
        TopicTrie {
            root: Node::default(),
        }
    }
}

impl<D: Clone + Eq + Hash> TopicTrie<D> {
    /// Add `destination` under `binding_key`; false if it was already there.
    pub fn insert(&mut self, binding_key: &str, destination: D) -> bool {
        let mut node = &mut self.root;
        for word in split(binding_key) {
            node = match word {
                "*" => node.star.get_or_insert_with(Box::default),
                "#" => node.hash.get_or_insert_with(Box::default),
                w => node.words.entry(w.to_string()).or_default(),
            };
        }
        if node.destinations.contains(&destination) {
            return false;
        }
        node.destinations.push(destination);
        true
    }

    /// Remove `destination` from `binding_key`; false if it was not there.
    pub fn remove(&mut self, binding_key: &str, destination: &D) -> bool {
        let words: Vec<&str> = split(binding_key).collect();
        remove_at(&mut self.root, &words, destination)
    }

    /// Every destination whose binding key matches `routing_key`, each once.
    pub fn matches(&self, routing_key: &str, out: &mut Vec<D>) {
        let words: Vec<&str> = split(routing_key).collect();
        let start = out.len();
        walk(&self.root, &words, out);
        // A destination bound under two matching keys receives one copy.
        let mut seen = std::collections::HashSet::new();
        let mut i = start;
        while i < out.len() {
            if seen.insert(out[i].clone()) {
                i += 1;
            } else {
                out.swap_remove(i);
            }
        }
    }
}

/// An empty key has no words (RabbitMQ: `#` matches it, `*` does not); otherwise words
/// are dot-separated and may be empty (`a..b`).
fn split(key: &str) -> impl Iterator<Item = &str> {
    key.split('.').filter(move |_| !key.is_empty())
}

fn walk<D: Clone>(node: &Node<D>, words: &[&str], out: &mut Vec<D>) {
    if let Some(hash) = &node.hash {
        // `#` absorbs zero or more words.
        for skip in 0..=words.len() {
            walk(hash, &words[skip..], out);
        }
    }
    match words.split_first() {
        None => out.extend(node.destinations.iter().cloned()),
        Some((first, rest)) => {
            if let Some(child) = node.words.get(*first) {
                walk(child, rest, out);
            }
            if let Some(star) = &node.star {
                walk(star, rest, out);
            }
        }
    }
}

fn remove_at<D: Eq>(node: &mut Node<D>, words: &[&str], destination: &D) -> bool {
    let Some((first, rest)) = words.split_first() else {
        let before = node.destinations.len();
        node.destinations.retain(|d| d != destination);
        return node.destinations.len() != before;
    };
    let removed = match *first {
        "*" => prune(&mut node.star, rest, destination),
        "#" => prune(&mut node.hash, rest, destination),
        w => match node.words.get_mut(w) {
            Some(child) => {
                let removed = remove_at(child, rest, destination);
                if child.is_empty() {
                    node.words.remove(w);
                }
                removed
            }
            None => false,
        },
    };
    removed
}

fn prune<D: Eq>(slot: &mut Option<Box<Node<D>>>, rest: &[&str], destination: &D) -> bool {
    let Some(child) = slot else { return false };
    let removed = remove_at(child, rest, destination);
    if child.is_empty() {
        *slot = None;
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(trie: &TopicTrie<&'static str>, key: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        trie.matches(key, &mut out);
        out.sort();
        out
    }

    #[test]
    fn star_matches_exactly_one_word() {
        let mut t = TopicTrie::default();
        t.insert("stock.*.nyse", "q");
        assert_eq!(routes(&t, "stock.ibm.nyse"), vec!["q"]);
        assert!(routes(&t, "stock.nyse").is_empty());
        assert!(routes(&t, "stock.ibm.x.nyse").is_empty());
    }

    #[test]
    fn hash_matches_zero_or_more_words() {
        let mut t = TopicTrie::default();
        t.insert("eu.#", "eu");
        t.insert("#", "all");
        t.insert("#.error", "errors");
        t.insert("a.#.z", "az");
        assert_eq!(routes(&t, "eu"), vec!["all", "eu"]);
        assert_eq!(routes(&t, "eu.de.orders"), vec!["all", "eu"]);
        assert_eq!(routes(&t, "app.error"), vec!["all", "errors"]);
        assert_eq!(routes(&t, "error"), vec!["all", "errors"]);
        assert_eq!(routes(&t, "a.z"), vec!["all", "az"]);
        assert_eq!(routes(&t, "a.b.c.z"), vec!["all", "az"]);
        assert_eq!(routes(&t, ""), vec!["all"]);
    }

    #[test]
    fn destination_matching_twice_is_routed_once() {
        let mut t = TopicTrie::default();
        t.insert("a.*", "q");
        t.insert("#", "q");
        t.insert("a.b", "q");
        assert_eq!(routes(&t, "a.b"), vec!["q"]);
    }

    #[test]
    fn literal_words_and_empty_words() {
        let mut t = TopicTrie::default();
        t.insert("a..b", "q");
        assert_eq!(routes(&t, "a..b"), vec!["q"]);
        assert!(routes(&t, "a.b").is_empty());
        t.insert("", "empty");
        assert_eq!(routes(&t, ""), vec!["empty"]);
        t.insert("*", "one-word");
        assert_eq!(routes(&t, ""), vec!["empty"]);
        assert_eq!(routes(&t, "x"), vec!["one-word"]);
    }

    #[test]
    fn remove_prunes_and_reports() {
        let mut t = TopicTrie::default();
        assert!(t.insert("a.*.#", "q"));
        assert!(!t.insert("a.*.#", "q"));
        assert!(t.insert("a.*.#", "r"));
        assert!(t.remove("a.*.#", &"q"));
        assert!(!t.remove("a.*.#", &"q"));
        assert_eq!(routes(&t, "a.b.c"), vec!["r"]);
        assert!(t.remove("a.*.#", &"r"));
        assert!(t.root.is_empty());
    }
}
