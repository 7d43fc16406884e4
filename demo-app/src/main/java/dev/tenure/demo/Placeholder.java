package dev.tenure.demo;

final class Placeholder {
    private Placeholder() {}
}
